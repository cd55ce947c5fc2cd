"""The file-backed HR connector and the shipped synthetic employees."""

import json
from datetime import date
from pathlib import Path

import pytest

from flows.anstallningsintyg import rules
from flows.anstallningsintyg.connectors import get_hr_connector
from flows.anstallningsintyg.connectors.hr import (
    EmployeeNotFound,
    FileHRConnector,
    HRConnector,
    HRDataError,
    HRUnavailable,
)
from municipality.personnummer import parse_personnummer

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "anstallningsintyg"
ISSUED = date(2026, 12, 1)

# The outcome data/anstallningsintyg/README.md promises for each synthetic employee.
EXPECTED = {
    "E1001": None,
    "E1002": None,
    "E1003": None,
    "E1004": None,
    "E1005": None,
    "E1006": None,
    "E1007": None,
    "E1008": [rules.OVERLAPPING_PERIODS],
    "E1009": [rules.MISSING_END_REASON],
    "E1010": [rules.HOURS_OUTSIDE_EMPLOYMENT],
    "E1011": [rules.NO_EMPLOYMENT],
    "E1012": None,
    "E1013": [rules.FORM_NOT_AVAILABLE],
}


@pytest.fixture
def hr():
    return FileHRConnector(data_dir=DATA_DIR)


def test_default_connector_is_the_file_backed_one_reading_the_shipped_data():
    """Without settings the robot reads data/anstallningsintyg/employees.json."""
    connector = get_hr_connector()
    assert isinstance(connector, FileHRConnector) and isinstance(connector, HRConnector)
    assert connector.employer().name == "Exempelby kommun"


def test_setting_switches_the_data_folder(settings, tmp_path):
    """`ANSTALLNINGSINTYG_HR_DATA_DIR` points the connector at another folder."""
    settings.ANSTALLNINGSINTYG_HR_DATA_DIR = tmp_path
    with pytest.raises(HRUnavailable):
        get_hr_connector().employee_ids()


@pytest.mark.parametrize(("employee_id", "codes"), sorted(EXPECTED.items()))
def test_each_synthetic_employee_gives_its_documented_outcome(hr, employee_id, codes):
    """Each shipped employee yields both documents, or exactly the findings the README names."""
    person = hr.employee(employee_id)
    for content_function in (rules.certificate_content, rules.arbetsgivarintyg_content):
        if codes is None:
            content = content_function(person, employer=hr.employer(), issued_on=ISSUED)
            assert content["employments"]
        else:
            with pytest.raises(rules.CertificateNotSettled) as raised:
                content_function(person, employer=hr.employer(), issued_on=ISSUED)
            assert raised.value.codes == codes


def test_shipped_file_has_about_a_dozen_valid_people(hr):
    """Every id in the file is listed above; every personnummer is valid and unique."""
    assert hr.employee_ids() == sorted(EXPECTED)
    numbers = [hr.employee(i).personnummer for i in hr.employee_ids()]
    assert len(set(numbers)) == len(numbers)
    assert all(parse_personnummer(n).canonical == n for n in numbers)


def test_every_employment_form_and_several_periods_are_shipped(hr):
    """The demo data covers each employment form, leave, severance and repeated periods."""
    employments = [e for i in hr.employee_ids() for e in hr.employee(i).employments]
    assert {e.form for e in employments} == set(rules.EMPLOYMENT_FORM_LABELS)
    assert any(e.leave for e in employments)
    assert any(e.severance for e in employments)
    assert max(len(hr.employee(i).employments) for i in hr.employee_ids()) >= 3


def test_hand_worked_figures_from_the_shipped_file(hr):
    """Leila Karimi (E1003): parental leave inside her last 12 months, 2025-10 … 2026-09."""
    content = rules.arbetsgivarintyg_content(
        hr.employee("E1003"), employer=hr.employer(), issued_on=ISSUED
    )
    [section] = content["employments"]
    assert section["end_reason"] == "egen_uppsagning"
    [leave] = section["leave"]
    # 2025-11-01 … 2026-02-28: 30 + 31 + 31 + 28 days.
    assert (leave["kind"], leave["days_in_period"]) == ("foraldraledig", 120)
    by_month = {r["month"]: r for r in section["worked_time"]}
    # Whole months on unpaid leave: no hours, no pay; 2026-03 has 22 weekdays × 8 h.
    assert (by_month["2026-01"]["hours_worked"], by_month["2026-01"]["gross_pay"]) == (0, 0)
    assert by_month["2026-03"]["hours_worked"] == 176


def test_employee_for_personnummer_accepts_the_hyphenated_form(hr):
    """Self-service finds the logged-in person by personnummer, written either way."""
    assert hr.employee_for_personnummer("19910715-2382").id == "E1001"
    with pytest.raises(EmployeeNotFound) as raised:
        hr.employee_for_personnummer("199107152383")  # wrong check digit
    assert "199107152383" not in str(raised.value)


def test_unknown_employee(hr):
    with pytest.raises(EmployeeNotFound):
        hr.employee("E0000")


def _write(tmp_path, data) -> FileHRConnector:
    (tmp_path / "employees.json").write_text(
        data if isinstance(data, str) else json.dumps(data), encoding="utf-8"
    )
    return FileHRConnector(data_dir=tmp_path)


def _valid_file() -> dict:
    return json.loads((DATA_DIR / "employees.json").read_text(encoding="utf-8"))


def test_malformed_json_is_a_data_error(tmp_path):
    """A file that is not JSON raises HRDataError, not an empty register."""
    with pytest.raises(HRDataError, match="not valid JSON"):
        _write(tmp_path, "{").employee_ids()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["employees"][0].update(personnummer="199107152383"), "check digit"),
        (lambda d: d["employees"][0]["employments"][0].update(form="fast"), "form"),
        (lambda d: d["employees"][0]["employments"][0].update(extent_percent=120), "extent"),
        (
            lambda d: d["employees"][0]["employments"][0]["months"][0].update(month="2026-13"),
            "month",
        ),
        (lambda d: d["employer"].update(organisation_number="212000-9995"), "check digit"),
        (lambda d: d["employees"][0].update(nickname="x"), "nickname"),
    ],
)
def test_invalid_records_are_data_errors(tmp_path, change, expected):
    """Each malformed record is refused with the field named."""
    data = _valid_file()
    change(data)
    with pytest.raises(HRDataError, match=expected) as raised:
        _write(tmp_path, data).employee_ids()
    # The message names the field, never the value (which may be a personnummer).
    assert "199107152383" not in str(raised.value)


def test_repeated_employee_id_is_a_data_error(tmp_path):
    data = _valid_file()
    data["employees"][1]["id"] = data["employees"][0]["id"]
    with pytest.raises(HRDataError, match="repeats employee ids"):
        _write(tmp_path, data).employee_ids()
