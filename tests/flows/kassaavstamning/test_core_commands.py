"""manage.py kassa_import and kassa_month_report against the real database."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from approvals.models import Document
from flows.kassaavstamning import steps
from flows.kassaavstamning.demo_data import DEFAULT_FOLDER
from flows.kassaavstamning.models import KassaImport
from tests.gate_helpers import FLOW_RUN_ID

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_import_command_opens_one_case_then_finds_it(org):
    """The demo folder imported twice: one import, one case; the robot account received it."""
    first = run("kassa_import", "--folder", str(DEFAULT_FOLDER))
    assert first.startswith("new import: case ")
    assert run("kassa_import", "--folder", str(DEFAULT_FOLDER)).startswith("already imported")
    row = KassaImport.objects.get()
    assert row.source == "command" and row.case.received_by.username == "kassarobot"


def test_import_command_refuses_bad_files_with_exit_2(org, tmp_path):
    bad = tmp_path / "bank.xml"
    bad.write_bytes(b"not xml")
    with pytest.raises(CommandError) as refused:
        run(
            "kassa_import",
            "--bank",
            str(bad),
            "--ledger",
            str(DEFAULT_FOLDER / "november-2026.se"),
            "--till",
            str(DEFAULT_FOLDER / "november-2026-z-rapporter.csv"),
        )
    assert refused.value.returncode == 2 and "bank: camt.053" in str(refused.value)
    with pytest.raises(CommandError) as missing:
        run("kassa_import", "--bank", str(tmp_path / "nope.xml"), "--ledger", "x", "--till", "y")
    assert missing.value.returncode == 2 and "Cannot read" in str(missing.value)
    assert not KassaImport.objects.exists()


def test_month_report_command(org, fast_pdf):
    """Without a reconciled import the command exits 2; after one it writes four reports."""
    with pytest.raises(CommandError) as nothing:
        run("kassa_month_report", "--month", "2026-11")
    assert nothing.value.returncode == 2
    with pytest.raises(CommandError):
        run("kassa_month_report", "--month", "november")
    run("kassa_import", "--folder", str(DEFAULT_FOLDER))
    row = KassaImport.objects.get()
    steps.import_reconcile(case_id=row.case_id, flow_run_id=FLOW_RUN_ID)
    out = run("kassa_month_report", "--month", "2026-11")
    assert out.count("Månadssammanställning") == 4
    assert Document.objects.filter(kind="report", case=row.case).count() == 4
