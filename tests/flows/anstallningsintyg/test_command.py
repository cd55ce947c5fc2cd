"""`manage.py employment_certificate`: content or findings, printed; nothing written."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[3]
DATA_FILE = ROOT / "data" / "anstallningsintyg" / "employees.json"


def _run(capsys, *args) -> str:
    call_command("employment_certificate", *args)
    return capsys.readouterr().out


@pytest.mark.django_db
def test_json_certificate_content_without_queries(capsys, django_assert_num_queries):
    """--json prints the anställningsintyg's content; the command asks nothing of the database."""
    with django_assert_num_queries(0):
        out = _run(capsys, "--employee", "E1006", "--json", "--date", "2026-12-01")
    content = json.loads(out)
    assert content["kind"] == "anstallningsintyg"
    assert [(e["form"], e["start"], e["end"]) for e in content["employments"]] == [
        ("vikariat", "2025-08-11", "2026-06-14"),
        ("tillsvidare", "2026-08-10", None),
    ]


def test_json_arbetsgivarintyg_content(capsys):
    """--kind arbetsgivarintyg prints the fund's data: reason, severance, 12 months of work."""
    out = _run(
        capsys,
        "--employee",
        "E1004",
        "--kind",
        "arbetsgivarintyg",
        "--json",
        "--date",
        "2026-12-01",
    )
    [section] = json.loads(out)["employments"]
    assert section["end_reason"] == "arbetsbrist"
    assert section["severance"] == {"amount": 155600, "paid_month": "2026-11"}
    assert len(section["worked_time"]) == 12


def test_without_worked_time_and_one_employment(capsys):
    out = _run(
        capsys,
        "--employee",
        "E1007",
        "--kind",
        "arbetsgivarintyg",
        "--json",
        "--employment",
        "E1007-3",
        "--without-worked-time",
        "--date",
        "2026-12-01",
    )
    content = json.loads(out)
    assert content["worked_time_included"] is False
    assert [s["employment_id"] for s in content["employments"]] == ["E1007-3"]


def test_plain_text_lists_the_employments(capsys):
    out = _run(capsys, "--employee", "E1003", "--kind", "arbetsgivarintyg", "--date", "2026-12-01")
    assert "Leila Karimi" in out
    assert "E1003-1: Förskollärare, Tillsvidareanställning, 2018-08-01 – 2026-09-30" in out
    assert "Egen uppsägning" in out


def test_findings_are_printed_and_exit_1(capsys):
    """Data that needs an HR officer prints the findings as JSON and fails with status 1."""
    with pytest.raises(CommandError) as raised:
        call_command(
            "employment_certificate", "--employee", "E1008", "--json", "--date", "2026-12-01"
        )
    assert raised.value.returncode == 1
    assert "overlapping_periods" in str(raised.value)
    printed = json.loads(capsys.readouterr().out)
    assert printed["exception"] == ["overlapping_periods"]
    assert printed["findings"][0]["employment_ids"] == ["E1008-1", "E1008-2"]


@pytest.mark.parametrize(
    "args",
    [
        ["--employee", "E9999"],
        ["--employee", "E1001", "--date", "2026-13-01"],
        ["--employee", "E1001", "--employment", "E1001-1"],
    ],
)
def test_usage_errors_exit_2(args):
    """An unknown employee, a bad date, --employment without arbetsgivarintyg: status 2."""
    with pytest.raises(CommandError) as raised:
        call_command("employment_certificate", *args)
    assert raised.value.returncode == 2


def test_unreadable_hr_system_exits_2(settings, tmp_path):
    settings.ANSTALLNINGSINTYG_HR_DATA_DIR = tmp_path
    with pytest.raises(CommandError, match="cannot be read") as raised:
        call_command("employment_certificate", "--employee", "E1001")
    assert raised.value.returncode == 2


def test_command_writes_nothing(capsys, settings, tmp_path):
    """Neither a delivery nor any file is written, and the HR file is untouched."""
    settings.ANSTALLNINGSINTYG_DELIVERY_DIR = tmp_path / "deliveries"
    before = (DATA_FILE.stat().st_mtime_ns, DATA_FILE.read_bytes())
    for kind in ("anstallningsintyg", "arbetsgivarintyg"):
        _run(capsys, "--employee", "E1001", "--kind", kind, "--json")
    assert not (tmp_path / "deliveries").exists()
    assert (DATA_FILE.stat().st_mtime_ns, DATA_FILE.read_bytes()) == before


def test_real_process_exit_status_for_an_unknown_employee():
    """Run as a program, an unknown employee exits 2 with a one-line error, no traceback."""
    result = subprocess.run(
        [sys.executable, "manage.py", "employment_certificate", "--employee", "E9999"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=60,
    )
    assert result.returncode == 2
    assert "No employee with id 'E9999'" in result.stderr
    assert "Traceback" not in result.stderr
