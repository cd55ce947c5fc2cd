"""Small builders for hand-worked employment histories (the models validate as the file does)."""

from flows.anstallningsintyg.schemas import Employee, Employer, Employment

EMPLOYER = Employer(
    name="Exempelby kommun",
    organisation_number="212000-9994",
    address="Storgatan 1, 999 99 Exempelby",
    hr_contact="HR- och lönecentrum",
)
# A Skatteverket test personnummer (see data/anstallningsintyg/README.md).
PNR = "199107152382"


def employment(**fields) -> Employment:
    data = {
        "id": "A-1",
        "position": "Undersköterska",
        "workplace": "Solbacken",
        "form": "tillsvidare",
        "start": "2020-01-01",
        "extent_percent": 100,
        "monthly_salary": 30000,
    }
    data.update(fields)
    return Employment.model_validate(data)


def employee(*employments: Employment, **fields) -> Employee:
    data = {"id": "A", "personnummer": PNR, "name": "Testa Testsson"}
    data.update(fields)
    return Employee.model_validate({**data, "employments": [e.model_dump() for e in employments]})


def month(month: str, hours: float, pay: int, **fields) -> dict:
    return {"month": month, "hours_worked": hours, "gross_pay": pay, **fields}


def months(first: str, last: str, hours: float, pay: int) -> list[dict]:
    """The same hours and pay for every month from `first` to `last`."""
    result = []
    year, mon = int(first[:4]), int(first[5:])
    while f"{year:04d}-{mon:02d}" <= last:
        result.append(month(f"{year:04d}-{mon:02d}", hours, pay))
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return result
