"""`manage.py reconcile --bank --ledger --till [--json]`: prints, writes nothing, exit 2 on bad files."""

import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from flows.kassaavstamning import demo_data

FOLDER = demo_data.DEFAULT_FOLDER


def _args(bank=None, ledger=None, till=None):
    return [
        "--bank",
        str(bank or FOLDER / demo_data.BANK_FILE),
        "--ledger",
        str(ledger or FOLDER / demo_data.LEDGER_FILE),
        "--till",
        str(till or FOLDER / demo_data.TILL_FILE),
    ]


@pytest.mark.django_db
def test_json_output_and_no_queries(capsys, django_assert_num_queries):
    """--json prints every day with its status and differences, the summary; no database use."""
    with django_assert_num_queries(0):
        call_command("reconcile", *_args(), "--json")
    output = json.loads(capsys.readouterr().out)
    assert output["month"] == "2026-11" and output["config_version"] == "kassa-2026-1"
    diffs = [d for day in output["days"] for d in day["differences"]]
    assert len(diffs) == len(demo_data.PLANTED)
    assert set(diffs[0]) == {"cash_point", "date", "kind", "expected", "found", "detail"}
    assert all(isinstance(d["expected"], int) and isinstance(d["found"], int) for d in diffs)
    assert sum(day["status"] == "matched" for day in output["days"]) == 71
    assert len(output["summary"]) == 4


def test_text_output(capsys):
    """Text output groups by cash point: 'matched' days and one line per difference."""
    call_command("reconcile", *_args())
    out = capsys.readouterr().out
    assert "\nbibliotek\n" in out and "\nsimhall\n" in out and "(ingen kassapunkt)" in out
    assert "  2026-11-02  matched" in out
    assert "2026-11-12  deposit_missing  expected" in out
    assert "Summary (kassa-2026-1)" in out


def test_writes_nothing(tmp_path, capsys):
    """The input folder is unchanged after a run (no files written beside the inputs)."""
    for name in (demo_data.BANK_FILE, demo_data.LEDGER_FILE, demo_data.TILL_FILE):
        shutil.copy(FOLDER / name, tmp_path / name)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir())
    call_command(
        "reconcile",
        *_args(
            tmp_path / demo_data.BANK_FILE,
            tmp_path / demo_data.LEDGER_FILE,
            tmp_path / demo_data.TILL_FILE,
        ),
    )
    assert sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    ("which", "content", "message"),
    [
        ("bank", b"<Document/>", "Malformed bank file"),
        ("bank", "EUR", "CAMT_CURRENCY"),
        ("ledger", b"#FLAGGA 0\r\n#SIETYP 3\r\n", "SIE_NOT_TYPE_4"),
        ("till", b"date;cash\r\n", "TILL_HEADER"),
        ("till", "unknown-point", "unknown cash point"),
        ("bank", None, "No such bank file"),
    ],
    ids=["bank-xml", "bank-eur", "ledger", "till-header", "till-point", "missing"],
)
def test_bad_files_exit_2_with_a_message(tmp_path, which, content, message):
    """A malformed, foreign-currency or missing file is a CommandError with exit code 2."""
    path = tmp_path / f"{which}.bin"
    if content == "EUR":
        content = (FOLDER / demo_data.BANK_FILE).read_bytes().replace(b'Ccy="SEK"', b'Ccy="EUR"')
    elif content == "unknown-point":
        content = (FOLDER / demo_data.TILL_FILE).read_bytes().replace(b";bibliotek;", b";kiosk;", 1)
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError, match=message) as caught:
        call_command("reconcile", *_args(**{which: path}))
    assert caught.value.returncode == 2
