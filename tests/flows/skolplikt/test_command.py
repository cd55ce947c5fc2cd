"""`manage.py skolplikt_scan --month --source [--json]` on the shipped demo data."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from municipality.personnummer import is_valid_personnummer

DEMO = Path(__file__).resolve().parents[3] / "data" / "skolplikt"


def _scan_json(capsys, source=DEMO, month="2026-11"):
    call_command("skolplikt_scan", "--month", month, "--source", str(source), "--json")
    return json.loads(capsys.readouterr().out)


def _tree(path: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.rglob("*"))}


def test_demo_month_flags_both_kinds(capsys):
    """The demo flags 2 not enrolled, 4 absences, 1 gap, 1 missing report.

    No database marker: pytest-django refuses any query, so the scan provably reads none.
    """
    data = _scan_json(capsys)
    reasons = {c["personnummer"][:8]: c["reasons"] for c in data["flagged"]}
    assert reasons == {
        "20110223": ["absence"],  # protected child
        "20130902": ["absence"],
        "20140521": ["absence"],
        "20141130": ["absence"],
        "20160819": ["report_missing"],
        "20170310": ["placement_gap"],
        "20190415": ["not_enrolled"],
        "20201228": ["not_enrolled"],
    }
    assert data["ruleset_version"] == "skolplikt-2026-01"
    assert data["children_of_compulsory_age"] == 10
    assert [s["name"] for s in data["schools_without_report"]] == ["Lärkans friskola"]
    cleo = next(c for c in data["flagged"] if c["personnummer"].startswith("20130902"))
    assert cleo["absence"]["unexcused_whole_days"] == 3
    assert cleo["absence"]["unexcused_minutes"] == 900
    assert cleo["absence"]["scheduled_minutes"] == 6300


def test_json_output_redacts_the_protected_child(capsys):
    """The protected demo child appears masked, without name or address."""
    data = _scan_json(capsys)
    protected = [c for c in data["flagged"] if c["protected"]]
    assert len(protected) == 1
    assert protected[0]["personnummer"] == "20110223-****"
    assert protected[0]["name"] == "Skyddad identitet"
    entry = json.dumps(protected[0], ensure_ascii=False)
    assert "Söderskolan" not in entry and "99990002" not in entry
    assert protected[0]["absence"]["unexcused_minutes"] == 960  # figures stay
    assert "Åberg" not in json.dumps(data, ensure_ascii=False)


def test_text_output_names_reasons_and_figures(capsys):
    """The readable form lists each flagged child with reason and Swedish figures."""
    call_command("skolplikt_scan", "--month", "2026-11", "--source", str(DEMO))
    out = capsys.readouterr().out
    assert "regelverk skolplikt-2026-01" in out
    assert "Inte inskriven i någon skola" in out
    assert "Ingen närvarorapport från Lärkans friskola" in out
    assert "ogiltig 15 h 00 min (14,3 %)" in out
    assert "Åberg" not in out


def test_scan_writes_nothing(capsys):
    """The source directory is unchanged after a scan."""
    before = _tree(DEMO)
    _scan_json(capsys)
    assert _tree(DEMO) == before


def test_holiday_month_is_reported_as_not_checked(capsys):
    """July: checked false, nothing flagged."""
    data = _scan_json(capsys, month="2026-07")
    assert data["checked"] is False
    assert data["flagged"] == []


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (("ss12000/persons.json", "{"), "SS12000_MALFORMED"),
        (("ss12000/organisations.json", '{"data": [{"id": 1}]}'), "SS12000_INVALID"),
        (("folkbokforing.json", "[]"), "POPULATION_INVALID"),
        (("ss12000/activities.json", None), "SS12000_FILE_MISSING"),
    ],
)
def test_bad_input_is_command_error_with_exit_status_2(tmp_path, damage, message):
    """Malformed or missing files give a CommandError with the code and exit status 2."""
    source = tmp_path / "demo"
    shutil.copytree(DEMO, source)
    name, content = damage
    if content is None:
        (source / name).unlink()
    else:
        (source / name).write_text(content)
    with pytest.raises(CommandError, match=message) as info:
        call_command("skolplikt_scan", "--month", "2026-11", "--source", str(source))
    assert info.value.returncode == 2


def test_bad_month_and_missing_directory(tmp_path):
    """A month not written YYYY-MM and a missing directory are clear errors (exit 2)."""
    with pytest.raises(CommandError, match="RULESET_MONTH_FORMAT") as info:
        call_command("skolplikt_scan", "--month", "2026-13", "--source", str(DEMO))
    assert info.value.returncode == 2
    with pytest.raises(CommandError, match="No such directory"):
        call_command("skolplikt_scan", "--month", "2026-11", "--source", str(tmp_path / "x"))


def test_demo_people_have_valid_synthetic_personnummer():
    """Every personnummer in the demo register and SS 12000 persons passes the Luhn check."""
    register = json.loads((DEMO / "folkbokforing.json").read_text())
    numbers = [c["personnummer"] for c in register["children"]]
    numbers += [g["personnummer"] for c in register["children"] for g in c["guardians"]]
    persons = json.loads((DEMO / "ss12000" / "persons.json").read_text())["data"]
    numbers += [p["civicNo"]["value"] for p in persons]
    assert numbers and all(is_valid_personnummer(n) for n in numbers)


def test_command_line_exit_status_2_without_traceback(tmp_path):
    """Run as a program, a malformed file exits 2 with the message and no traceback."""
    source = tmp_path / "demo"
    shutil.copytree(DEMO, source)
    (source / "ss12000" / "persons.json").write_text("{")
    root = DEMO.parents[1]
    completed = subprocess.run(
        [
            sys.executable,
            str(root / "manage.py"),
            "skolplikt_scan",
            "--month",
            "2026-11",
            "--source",
            str(source),
        ],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "SS12000_MALFORMED" in completed.stderr
    assert "Traceback" not in completed.stderr
