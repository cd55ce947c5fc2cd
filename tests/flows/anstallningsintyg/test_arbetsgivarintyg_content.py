"""`rules.arbetsgivarintyg_content`: what the unemployment fund asks of the employer."""

from datetime import date

import pytest

from flows.anstallningsintyg import rules
from flows.anstallningsintyg.rules import CertificateNotSettled, arbetsgivarintyg_content
from tests.flows.anstallningsintyg.builders import EMPLOYER, employee, employment, month, months

ISSUED = date(2026, 12, 1)  # window: the 12 months 2025-12 … 2026-11


def _content(person, **kwargs):
    return arbetsgivarintyg_content(person, employer=EMPLOYER, issued_on=ISSUED, **kwargs)


def test_ended_employment_with_reason_notice_and_severance():
    """An employment ended for arbetsbrist: period, reason, notice date and severance."""
    person = employee(
        employment(
            start="2012-03-01",
            end="2026-10-31",
            notice_date="2026-07-01",
            end_reason="arbetsbrist",
            severance={"amount": 155600, "paid_month": "2026-11"},
            months=months("2025-01", "2026-10", 168, 38900),
        )
    )
    [section] = _content(person)["employments"]
    assert (section["start"], section["end"], section["status"]) == (
        "2012-03-01",
        "2026-10-31",
        "ended",
    )
    assert section["end_reason"] == "arbetsbrist"
    assert section["end_reason_label"] == "Uppsägning på grund av arbetsbrist"
    assert section["notice_date"] == "2026-07-01"
    assert section["severance"] == {"amount": 155600, "paid_month": "2026-11"}
    assert section["working_time"] == {
        "measure": "heltid",
        "extent_percent": 100,
        "hours_per_week": 40.0,
    }
    # 12 months ending with the last month of the employment: 2025-11 … 2026-10.
    assert [r["month"] for r in section["worked_time"]] == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
    ]
    assert section["worked_time_totals"] == {"hours_worked": 12 * 168, "gross_pay": 12 * 38900}


def test_ongoing_employment_reports_the_12_months_before_the_month_of_issue():
    """For an ongoing employment the months are the 12 complete months before the issue month."""
    person = employee(employment(months=months("2025-01", "2026-11", 160, 30000)))
    content = _content(person)
    [section] = content["employments"]
    assert section["status"] == "ongoing"
    assert section["end_reason"] is None and section["severance"] is None
    assert section["worked_time"][0]["month"] == "2025-12"
    assert section["worked_time"][-1]["month"] == "2026-11"
    assert content["worked_time_included"] is True


def test_part_time_is_deltid_with_hours_and_percent():
    """A 75 % employment is deltid: 30 hours a week of 40, and 75 %."""
    person = employee(
        employment(
            form="sarskild_visstid",
            start="2025-01-07",
            end="2026-06-30",
            extent_percent=75,
            end_reason="visstid_upphorde",
            months=months("2025-01", "2026-06", 126, 19500),
        )
    )
    [section] = _content(person)["employments"]
    assert section["working_time"] == {
        "measure": "deltid",
        "extent_percent": 75,
        "hours_per_week": 30.0,
    }
    assert section["end_reason_label"] == "Anställningen upphörde (visstidsanställningen löpte ut)"
    # 2025-07 … 2026-06
    assert len(section["worked_time"]) == 12
    assert section["worked_time"][0]["month"] == "2025-07"


def test_timavlonad_is_varierande_and_a_month_without_payroll_is_zero_hours():
    """Hourly-paid work has varying working time; a month without payroll shows 0 hours."""
    person = employee(
        employment(
            form="timavlonad",
            extent_percent=None,
            monthly_salary=None,
            hourly_rate=178,
            start="2025-03-01",
            months=[month("2026-06", 104, 18512), month("2026-07", 150, 26700)],
        )
    )
    [section] = _content(person)["employments"]
    assert section["working_time"] == {
        "measure": "varierande",
        "extent_percent": None,
        "hours_per_week": None,
    }
    by_month = {r["month"]: r for r in section["worked_time"]}
    assert len(by_month) == 12
    assert by_month["2026-05"]["hours_worked"] == 0
    assert by_month["2026-07"] == {
        "month": "2026-07",
        "hours_worked": 150,
        "absence_hours": 0,
        "overtime_hours": 0,
        "gross_pay": 26700,
    }
    assert section["worked_time_totals"] == {"hours_worked": 254, "gross_pay": 18512 + 26700}


def test_missing_payroll_month_of_a_monthly_paid_employment_is_hours_missing():
    """A monthly-paid employment without payroll for a month is `hours_missing`, months named."""
    records = [r for r in months("2025-01", "2026-11", 160, 30000) if r["month"] != "2026-04"]
    with pytest.raises(CertificateNotSettled) as raised:
        _content(employee(employment(months=records)))
    assert raised.value.codes == [rules.HOURS_MISSING]
    assert raised.value.findings[0].detail == {"months": ["2026-04"]}


def test_without_worked_time_a_missing_month_does_not_matter():
    """Under the income-based rules alone no hours are asked, so none can be missing."""
    content = _content(employee(employment()), include_worked_time=False)
    assert content["worked_time_included"] is False
    assert "worked_time" not in content["employments"][0]


def test_parental_leave_in_the_period_with_days_counted():
    """Leave is listed with the calendar days that fall inside the reported months."""
    person = employee(
        employment(
            start="2018-08-01",
            end="2026-09-30",
            end_reason="egen_uppsagning",
            leave=[
                {"kind": "foraldraledig", "start": "2025-09-01", "end": "2026-02-28"},
                {"kind": "studieledig", "start": "2024-01-01", "end": "2024-06-30"},
                {"kind": "sjuk", "start": "2026-05-04", "end": "2026-05-08", "paid": True},
            ],
            months=months("2025-01", "2026-09", 100, 20000),
        )
    )
    [section] = _content(person)["employments"]
    # Months 2025-10 … 2026-09: the parental leave counts from 2025-10-01 to 2026-02-28:
    # 31 + 30 + 31 + 31 + 28 = 151 days. The 2024 study leave lies outside the months.
    assert [(row["kind"], row["days_in_period"]) for row in section["leave"]] == [
        ("foraldraledig", 151),
        ("sjuk", 5),
    ]
    first = section["leave"][0]
    assert first["kind_label"] == "Föräldraledighet"
    assert (first["paid"], first["extent_percent"]) == (False, 100)
    assert section["leave"][1]["paid"] is True


def test_several_employments_in_the_window_each_get_a_section():
    """A vikariat that ended and a tillsvidare that followed are both reported."""
    person = employee(
        employment(
            id="V",
            form="vikariat",
            start="2025-08-11",
            end="2026-06-14",
            extent_percent=80,
            end_reason="visstid_upphorde",
            months=months("2025-08", "2026-06", 130, 24000),
        ),
        employment(id="T", start="2026-08-10", months=months("2026-08", "2026-11", 160, 38500)),
        employment(
            id="OLD",
            form="vikariat",
            start="2019-01-01",
            end="2019-06-30",
            end_reason="visstid_upphorde",
        ),
    )
    sections = _content(person)["employments"]
    assert [s["employment_id"] for s in sections] == ["V", "T"]
    # The vikariat: 12 months ending 2026-06, from its start 2025-08: 11 months.
    assert len(sections[0]["worked_time"]) == 11
    assert [r["month"] for r in sections[1]["worked_time"]] == [
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]


def test_one_employment_by_id_even_outside_the_window():
    """Asked for one employment by id, it is reported for its own last 12 months."""
    person = employee(
        employment(
            id="OLD",
            form="vikariat",
            start="2019-01-01",
            end="2019-06-30",
            end_reason="visstid_upphorde",
            months=months("2019-01", "2019-06", 160, 25000),
        ),
        employment(id="NOW", start="2020-01-01"),
    )
    content = _content(person, employment_id="OLD")
    [section] = content["employments"]
    assert section["employment_id"] == "OLD"
    assert [r["month"] for r in section["worked_time"]][:1] == ["2019-01"]
    assert section["worked_time_totals"]["gross_pay"] == 6 * 25000


def test_unknown_employment_id():
    """An employment id the employee does not have is `unknown_employment`."""
    with pytest.raises(CertificateNotSettled) as raised:
        _content(employee(employment()), employment_id="X", include_worked_time=False)
    assert raised.value.codes == [rules.UNKNOWN_EMPLOYMENT]


def test_no_employment_in_the_last_12_months():
    """Someone whose last employment ended before the window is `no_employment_in_period`."""
    person = employee(employment(end="2025-11-30", end_reason="egen_uppsagning"))
    with pytest.raises(CertificateNotSettled) as raised:
        _content(person)
    assert raised.value.codes == [rules.NO_EMPLOYMENT_IN_PERIOD]
    # One day later it would have been inside: 2025-12-01 is the window's first day.
    inside = employee(
        employment(
            end="2025-12-01",
            end_reason="egen_uppsagning",
            months=months("2025-01", "2025-12", 1, 1),
        )
    )
    assert len(_content(inside)["employments"]) == 1
