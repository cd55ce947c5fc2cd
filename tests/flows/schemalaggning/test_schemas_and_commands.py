"""The roster JSON at the edge, and the roster_check / roster_propose commands."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from flows.schemalaggning.roster import RosterError
from flows.schemalaggning.rules import check

from .helpers import person, roster, shift

EXAMPLE = {
    "staff": [{"id": "s1", "employment_rate": 0.75, "roles": ["usk"], "night_only": False}],
    "shifts": [{"staff": "s1", "start": "2026-12-07T07:00", "end": "2026-12-07T15:30"}],
    "rules": "atl-2026",
}


def run(command, path, *args):
    out = StringIO()
    call_command(command, str(path), *args, stdout=out)
    return out.getvalue()


def write(tmp_path, data, name="roster.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_roster_check_prints_the_verdict_as_json(tmp_path):
    """The issue's example reads and prints {"breaches", "uncovered"}; the file is unchanged
    and nothing else is written."""
    path = write(tmp_path, EXAMPLE)
    before = path.read_bytes()
    verdict = json.loads(run("roster_check", path, "--json"))
    assert set(verdict) == {"breaches", "uncovered"}
    # One 8.5-hour shift in a week at 0.75: 8.5 h against 30 h contracted.
    assert [(b["staff"], b["rule"]) for b in verdict["breaches"]] == [("s1", "average_week")]
    assert verdict == check(EXAMPLE)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "roster.json"
    ]


def test_roster_check_prints_readable_text(tmp_path):
    """Without --json the same verdict as lines."""
    text = run("roster_check", write(tmp_path, EXAMPLE))
    assert "Breaches: 1" in text and "average_week" in text and "Uncovered needs: 0" in text


def test_the_shipped_example_has_one_breach_of_each_kind(tmp_path):
    """data/schemalaggning/example-check.json shows overlap, daily rest, competence, hours."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "data" / "schemalaggning" / "example-check.json"
    verdict = json.loads(run("roster_check", path, "--json"))
    assert {b["rule"] for b in verdict["breaches"]} == {
        "overlap", "daily_rest", "competence", "average_week"
    }  # fmt: skip


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "Malformed JSON"),
        ("[]", "must be a JSON object"),
        (json.dumps({"staff": []}), "staff: List should have at least 1 item"),
        (json.dumps(dict(EXAMPLE, shifts=[shift("2026-12-07T07:00", "2026-12-07T15:30",
                                                staff="nobody")])), "unknown staff 'nobody'"),
        (json.dumps(dict(EXAMPLE, shifts=[shift("2026-03-29T02:30", "2026-03-29T08:00")])),
         "does not exist in Stockholm"),
        (json.dumps(dict(EXAMPLE, shifts=[shift("2026-12-07T15:00", "2026-12-07T07:00")])),
         "must end after it starts"),
        (json.dumps(dict(EXAMPLE, shifts=[shift("2026-12-07T07:00+01:00",
                                                "2026-12-07T15:00")])), "without an offset"),
        (json.dumps(dict(EXAMPLE, surprise=1)), "surprise: Extra inputs are not permitted"),
        (json.dumps(dict(EXAMPLE, rules="atl-1999")), "RULESET_UNKNOWN"),
        (json.dumps(dict(EXAMPLE, rule_options={"weekly_rest_hours": 24})), "RULESET_BELOW_LAW"),
        (json.dumps(dict(EXAMPLE, needs=[{"date": "2026-12-07", "shift": "brunch", "count": 1}])),
         "unknown shift type 'brunch'"),
        (json.dumps(dict(EXAMPLE, rule_options={"daily_rest_hours": "lots"})),
         "RULESET_OPTION_INVALID"),
        (json.dumps(dict(EXAMPLE, rule_options={"daily_rest_reference": "weekly"})),
         "RULESET_OPTION_INVALID"),
        (json.dumps(dict(EXAMPLE, period={"start": "2026-12-07", "end": "2026-12-13"},
                         needs=[{"date": "2026-12-14", "shift": "morning", "count": 1}])),
         "outside the period"),
        (json.dumps(dict(EXAMPLE, leave=[{"staff": "s1", "start": "2026-12-09",
                                          "end": "2026-12-08"}])), "Leave must end"),
    ],
)  # fmt: skip
def test_malformed_input_is_a_command_error_with_exit_status_2(tmp_path, content, message):
    """Bad files end in CommandError (exit 2) naming the problem, never a traceback."""
    with pytest.raises(CommandError) as info:
        run("roster_check", write(tmp_path, content))
    assert message in str(info.value)
    assert info.value.returncode == 2


def test_a_missing_file_is_a_command_error(tmp_path):
    """A path that does not exist: CommandError, exit 2."""
    with pytest.raises(CommandError, match="No such file") as info:
        run("roster_check", tmp_path / "absent.json")
    assert info.value.returncode == 2


def test_check_refuses_unreadable_input_with_a_named_error():
    """check() on a dict that fails validation raises RosterError ROSTER_INVALID."""
    with pytest.raises(RosterError) as info:
        check({"staff": [person(rate=1.5)]})
    assert info.value.code == "ROSTER_INVALID"


def test_the_twice_occurring_october_hour_is_read_as_summer_time():
    """02:30 on 2026-10-25 exists twice; read as the first (CEST), so 02:30–03:30 is 2 h."""
    from flows.schemalaggning.rules import roster_summary

    data = roster([shift("2026-10-25T02:30", "2026-10-25T03:30")])
    assert roster_summary(data)["s1"]["scheduled_hours"] == 2.0


def test_roster_propose_refuses_a_file_with_shifts(tmp_path):
    """A proposal starts from no shifts: CommandError naming PROPOSE_HAS_SHIFTS."""
    with pytest.raises(CommandError, match="PROPOSE_HAS_SHIFTS") as info:
        run("roster_propose", write(tmp_path, EXAMPLE))
    assert info.value.returncode == 2


def test_the_demo_unit_is_the_generators_output():
    """data/schemalaggning/hemtjanst-norr-2027-01.json: 15 staff, 4 weeks from Monday
    2027-01-04, reproducible from unit_generate(staff=15, weeks=4, seed=1)."""
    from datetime import date
    from pathlib import Path

    from flows.schemalaggning.generator import unit_generate

    path = Path(__file__).resolve().parents[3] / "data" / "schemalaggning"
    demo = json.loads((path / "hemtjanst-norr-2027-01.json").read_text(encoding="utf-8"))
    assert demo == unit_generate(staff=15, weeks=4, start=date(2027, 1, 4), seed=1)
    assert len(demo["staff"]) == 15 and demo["period"] == {"start": "2027-01-04",
                                                           "end": "2027-01-31"}  # fmt: skip
    assert check(demo)["uncovered"]  # no shifts yet: every need is open


def test_check_does_not_change_its_input():
    """check() is pure: the dict it is given is the same afterwards (need ids are not added)."""
    import copy

    data = dict(EXAMPLE, needs=[{"date": "2026-12-07", "shift": "morning", "count": 2}])
    before = copy.deepcopy(data)
    check(data)
    assert data == before


def test_roster_propose_refuses_a_silly_time_limit(tmp_path):
    """--time-limit 0 is a CommandError, exit 2."""
    data = {k: v for k, v in EXAMPLE.items() if k != "shifts"}
    with pytest.raises(CommandError, match="--time-limit") as info:
        run("roster_propose", write(tmp_path, data), "--time-limit", "0")
    assert info.value.returncode == 2
