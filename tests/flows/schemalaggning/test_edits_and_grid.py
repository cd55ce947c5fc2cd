"""The manager's edits (pure) and the grid content, checked after each edit."""

import json
from pathlib import Path

import pytest

from flows.schemalaggning.edits import (
    EditError,
    shift_add,
    shift_move,
    shift_remove,
    shift_swap,
)
from flows.schemalaggning.grid import roster_grid
from flows.schemalaggning.rules import check

EXAMPLE = json.loads(
    (
        Path(__file__).resolve().parents[3] / "data" / "schemalaggning" / "example-check.json"
    ).read_text(encoding="utf-8")
)


def test_moving_the_medication_shift_to_someone_without_it_is_a_competence_breach():
    """s2 (ssk) holds the medication need; given to s1, who has it, the breach disappears."""
    before = {b["rule"] for b in check(EXAMPLE)["breaches"] if b["staff"] == "s2"}
    assert "competence" in before
    edited = shift_move(EXAMPLE, index=3, staff="s1")
    assert "competence" not in {b["rule"] for b in check(edited)["breaches"]}
    assert EXAMPLE["shifts"][3]["staff"] == "s2"  # the original is untouched


def test_removing_the_overlapping_evening_clears_overlap_and_daily_rest():
    """Without s1's evening shift there is no overlap and no short daily rest."""
    edited = shift_remove(EXAMPLE, index=1)
    rules = {b["rule"] for b in check(edited)["breaches"]}
    assert not rules & {"overlap", "daily_rest"}


def test_swap_exchanges_the_people_of_two_shifts():
    """Swapping shifts 0 and 3 gives s2 the morning and s1 the medication need."""
    edited = shift_swap(EXAMPLE, first=0, second=3)
    assert [edited["shifts"][i]["staff"] for i in (0, 3)] == ["s2", "s1"]


def test_moving_a_shift_in_time_is_checked_again():
    """s1's Tuesday morning moved to 05:00 leaves 7 h after Monday's evening: still a breach;
    an added Wednesday shift for an unknown person is refused."""
    edited = shift_move(EXAMPLE, index=2, start="2026-12-08T05:00", end="2026-12-08T13:00")
    assert any(b["rule"] == "daily_rest" for b in check(edited)["breaches"])
    with pytest.raises(EditError) as info:
        shift_add(EXAMPLE, staff="nobody", start="2026-12-09T07:00", end="2026-12-09T15:30")
    assert info.value.code == "EDIT_NO_SUCH_STAFF"
    with pytest.raises(EditError) as info:
        shift_move(EXAMPLE, index=99, staff="s1")
    assert info.value.code == "EDIT_NO_SUCH_SHIFT"


def test_the_grid_has_a_cell_per_person_and_day_with_its_shifts_and_breaches():
    """7 days × 2 people; s1's Monday holds two shifts, the overlap and the daily rest; the
    contract breaches are on the rows."""
    grid = roster_grid(EXAMPLE)
    assert grid["days"][0] == "2026-12-07" and len(grid["days"]) == 7
    s1 = next(r for r in grid["rows"] if r["staff"] == "s1")
    monday = s1["cells"][0]
    assert [(s["index"], s["start"], s["end"]) for s in monday["shifts"]] == [
        (0, "07:00", "15:30"), (1, "14:00", "22:00")
    ]  # fmt: skip
    assert {b["rule"] for b in monday["breaches"]} == {"overlap", "daily_rest"}
    assert [b["rule"] for b in s1["period_breaches"]] == ["average_week"]
    assert s1["summary"]["scheduled_hours"] == 25.0
    assert grid["breach_count"] == len(check(EXAMPLE)["breaches"])
