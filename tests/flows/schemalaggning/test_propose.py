"""The CP-SAT proposer on small units: zero breaches, full coverage, reasons when short."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from flows.schemalaggning.roster import RosterError
from flows.schemalaggning.rules import check, roster_summary
from flows.schemalaggning.solver import greedy_shifts, propose, roster_of

MED = "delegated_medication"
WEEK = [f"2027-01-{d:02d}" for d in range(4, 11)]  # Monday 4 – Sunday 10 January 2027


def unit(week=WEEK, **extra):
    """Four day staff (2 × 32 h + 2 × 24 h) for one morning with medication and one evening
    a day (115.5 h); two night workers (70 h) for one night a day (66.5 h)."""
    staff = [
        {"id": "d1", "employment_rate": 0.8, "roles": ["usk"], "competences": [MED]},
        {"id": "d2", "employment_rate": 0.6, "roles": ["usk"], "competences": [MED]},
        {"id": "d3", "employment_rate": 0.8, "roles": ["usk"]},
        {"id": "d4", "employment_rate": 0.6, "roles": ["vb"]},
        {"id": "n1", "employment_rate": 1.0, "roles": ["usk"], "competences": [MED],
         "night_only": True},
        {"id": "n2", "employment_rate": 0.75, "roles": ["usk"], "night_only": True},
    ]  # fmt: skip
    needs = []
    for day in week:
        needs.append({"date": day, "shift": "morning", "count": 1, "roles": ["usk"],
                      "competences": [MED]})  # fmt: skip
        needs.append({"date": day, "shift": "evening", "count": 1})
        needs.append({"date": day, "shift": "night", "count": 1})
    data = {"staff": staff, "needs": needs, "period": {"start": week[0], "end": week[-1]},
            "rules": "atl-2026"}  # fmt: skip
    data.update(extra)
    return data


@pytest.fixture(scope="module")
def proposal():
    return propose(unit(), time_limit=10)


def test_a_small_unit_is_fully_covered_without_breaches(proposal):
    """Every need is covered and check finds no breach in the proposal."""
    assert proposal["uncovered"] == [] and proposal["breaches"] == []
    assert proposal["solver"]["status"] in ("OPTIMAL", "FEASIBLE")
    assert check(roster_of(proposal)) == {"breaches": [], "uncovered": []}


def test_only_qualified_staff_take_the_medication_need(proposal):
    """The shifts naming a medication need belong to d1 or d2."""
    med = [s for s in proposal["shifts"] if s["shift"] == "morning"]
    assert len(med) == 7 and {s["staff"] for s in med} <= {"d1", "d2"}


def test_night_only_staff_get_only_nights_and_day_staff_none(proposal):
    """n1 and n2 work nights only; the day staff, who do not work nights, never do."""
    for s in proposal["shifts"]:
        assert (s["shift"] == "night") == s["staff"].startswith("n")


def test_hours_are_within_the_contract(proposal):
    """Everyone's hours are within the contract's tolerance of 2 h a week."""
    summary = roster_summary(roster_of(proposal))
    for sid, row in summary.items():
        assert abs(row["scheduled_hours"] - row["contracted_hours"]) <= 2, sid


def test_leave_and_wishes_are_respected():
    """d1 on leave Monday–Wednesday is not planned then; d3's wish to be off on Saturday holds."""
    data = unit(
        leave=[{"staff": "d1", "start": "2027-01-04", "end": "2027-01-06"}],
        wishes=[{"staff": "d3", "date": "2027-01-09", "kind": "off", "weight": 3}],
    )
    result = propose(data, time_limit=10)
    assert not [s for s in result["shifts"] if s["staff"] == "d1" and s["start"] < "2027-01-07"]
    assert not [
        s for s in result["shifts"] if s["staff"] == "d3" and s["start"][:10] == "2027-01-09"
    ]
    assert result["unmet_wishes"] == []
    assert [b for b in result["breaches"] if b["rule"] != "average_week"] == []


def test_an_understaffed_unit_reports_what_is_missing_and_why():
    """Only one nurse for a nurse on every morning and evening: the law holds, the rest is
    reported as uncovered with the reason."""
    data = {
        "staff": [{"id": "sjk", "employment_rate": 1.0, "roles": ["ssk"]}],
        "needs": [{"date": d, "shift": t, "count": 1, "roles": ["ssk"]}
                  for d in WEEK for t in ("morning", "evening")],
        "period": {"start": WEEK[0], "end": WEEK[-1]},
    }  # fmt: skip
    result = propose(data, time_limit=10)
    assert [b for b in result["breaches"] if b["rule"] != "average_week"] == []
    covered = len(result["shifts"])
    assert covered == 5  # 40 h and the 36-hour weekly rest allow five 8-hour shifts
    assert sum(u["missing"] for u in result["uncovered"]) == 14 - covered
    reasons = [e for e in result["explanations"] if e["rule"] == "coverage"]
    assert len(reasons) == 14 - covered and "held by daily or weekly rest" in reasons[0]["detail"]


def test_a_need_nobody_may_cover_is_explained():
    """A need for delegated medication that no one has: uncovered, "only 0 of the staff"."""
    data = unit()
    data["needs"].append({"date": WEEK[0], "shift": "evening", "count": 1,
                          "competences": ["wound_care"]})  # fmt: skip
    result = propose(data, time_limit=10)
    assert [u["competences"] for u in result["uncovered"]] == [["wound_care"]]
    assert any("only 0 of the staff" in e["detail"] for e in result["explanations"])


def test_propose_refuses_shifts():
    """Input with shifts is refused with PROPOSE_HAS_SHIFTS."""
    data = unit(shifts=[{"staff": "d1", "start": "2027-01-04T07:00", "end": "2027-01-04T15:30"}])
    with pytest.raises(RosterError) as info:
        propose(data, time_limit=1)
    assert info.value.code == "PROPOSE_HAS_SHIFTS"


def test_roster_propose_prints_a_proposal_that_roster_check_accepts(tmp_path):
    """The command's JSON has shifts in the check shape; fed back to roster_check: no breach."""
    path = tmp_path / "unit.json"
    path.write_text(json.dumps(unit()), encoding="utf-8")
    out = StringIO()
    call_command("roster_propose", str(path), "--json", "--time-limit", "10", stdout=out)
    proposal = json.loads(out.getvalue())
    assert {"shifts", "breaches", "uncovered", "solver"} <= set(proposal)
    back = tmp_path / "back.json"
    keep = ("staff", "needs", "shifts", "period", "rules")
    back.write_text(json.dumps({k: proposal[k] for k in keep}), encoding="utf-8")
    out = StringIO()
    call_command("roster_check", str(back), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"breaches": [], "uncovered": []}


@pytest.mark.parametrize("first", [23, 19], ids=["march", "october"])
def test_a_week_with_a_clock_change_is_proposed_without_breaches(first):
    """The weeks of 2026-03-29 (an 8.5-hour night) and 2026-10-25 (a 10.5-hour night): the
    proposal is covered and check finds no breach of the law in real elapsed time."""
    month = 3 if first == 23 else 10
    week = [f"2026-{month:02d}-{first + i:02d}" for i in range(7)]
    result = propose(unit(week=week), time_limit=10)
    assert result["uncovered"] == []
    law = {"daily_rest", "weekly_rest", "night_work", "overlap", "leave", "competence"}
    assert [b for b in result["breaches"] if b["rule"] in law] == []
    changeover = [
        s for s in result["shifts"] if s["shift"] == "night" and s["start"] == f"{week[5]}T21:45"
    ]
    assert len(changeover) == 1  # the night into the changeover Sunday is staffed


def test_the_proposal_carries_the_fairness_summary(proposal):
    """Per person: scheduled and contracted hours, weekend and night shifts."""
    row = proposal["summary"]["n1"]
    assert row["night_shifts"] == row["scheduled_hours"] / 9.5 and row["night_worker"] is True
    assert sum(r["weekend_shifts"] for r in proposal["summary"].values()) == 6


def test_weekends_are_shared_in_proportion_to_the_employment_rate(proposal):
    """Four weekend day shifts among four day staff (0.6–0.8): one each, not two and none."""
    weekend = [proposal["summary"][sid]["weekend_shifts"] for sid in ("d1", "d2", "d3", "d4")]
    assert weekend == [1, 1, 1, 1]


def test_a_wish_to_work_is_granted_when_the_law_allows():
    """d4 wishes to work Tuesday evening: the proposal gives it to d4."""
    data = unit(wishes=[{"staff": "d4", "date": "2027-01-05", "shift": "evening",
                         "kind": "work", "weight": 2}])  # fmt: skip
    result = propose(data, time_limit=10)
    assert {"staff": "d4", "start": "2027-01-05T14:00", "end": "2027-01-05T22:00"}.items() <= [
        s for s in result["shifts"] if s["start"] == "2027-01-05T14:00"
    ][0].items()
    assert result["unmet_wishes"] == []


def test_nights_are_shared_evenly_among_day_staff_who_work_nights():
    """Without a night team, three day staff who may work nights take 2, 2 and 3 of 7 (the
    contract's tolerance widened, so that fairness rather than hours decides)."""
    staff = [{"id": f"u{i}", "employment_rate": 0.6, "roles": ["usk"], "nights": True}
             for i in range(3)]  # fmt: skip
    data = {"staff": staff, "needs": [{"date": d, "shift": "night", "count": 1} for d in WEEK],
            "period": {"start": WEEK[0], "end": WEEK[-1]},
            "rule_options": {"contract_tolerance_hours_per_week": 20}}  # fmt: skip
    result = propose(data, time_limit=10)
    assert result["uncovered"] == []
    assert sorted(r["night_shifts"] for r in result["summary"].values()) == [2, 2, 3]


def test_the_greedy_starting_roster_breaks_no_law():
    """The solver's starting point for the 15-person demo unit: check finds no breach of
    rest, the 40-hour average, night work, overlap, leave or competence in it."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "data" / "schemalaggning"
    demo = json.loads((path / "hemtjanst-norr-2027-01.json").read_text(encoding="utf-8"))
    demo["shifts"] = greedy_shifts(demo)
    assert len(demo["shifts"]) > 200
    law = {"daily_rest", "weekly_rest", "night_work", "overlap", "leave", "competence"}
    verdict = check(demo)
    assert [b for b in verdict["breaches"] if b["rule"] in law] == []
    assert [b for b in verdict["breaches"] if "a week on average" in b["detail"]] == []
