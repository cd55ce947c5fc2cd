"""The check answers a manager's edit of a 40-person, 6-week roster well within 200 ms."""

import statistics
import time
from datetime import date

from flows.schemalaggning.clock import fmt
from flows.schemalaggning.generator import unit_generate
from flows.schemalaggning.roster import shift_type_interval
from flows.schemalaggning.rules import check
from flows.schemalaggning.schemas import DEFAULT_SHIFT_TYPES

LIMIT_MS = 200


def big_roster():
    """Round-robin: the generator's 40-person unit with every need filled by someone (rules
    are not respected; many breaches make the check do the most work)."""
    unit = unit_generate(staff=40, weeks=6)
    people = [p["id"] for p in unit["staff"]]
    shifts, k = [], 0
    for need in unit["needs"]:
        t = DEFAULT_SHIFT_TYPES[need["shift"]]
        a, b = shift_type_interval(date.fromisoformat(need["date"]), t["start"], t["end"])
        for _ in range(need["count"]):
            shifts.append({"staff": people[k % 40], "start": fmt(a), "end": fmt(b)})
            k += 1
    unit["shifts"] = shifts
    return unit


def test_check_of_one_edit_is_fast():
    """Median of 7 checks after moving one shift: under 200 ms (about 50 ms measured)."""
    roster = big_roster()
    assert len(roster["shifts"]) > 800
    timings = []
    for i in range(7):
        roster["shifts"][i]["staff"] = roster["staff"][(i + 3) % 40]["id"]
        started = time.perf_counter()
        verdict = check(roster)
        timings.append((time.perf_counter() - started) * 1000)
    assert verdict["breaches"]
    assert statistics.median(timings) < LIMIT_MS, timings
