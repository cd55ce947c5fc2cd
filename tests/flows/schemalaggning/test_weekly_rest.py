"""ATL 14 §: 36 consecutive hours off in every 7-day period, fixed from the roster's first day."""

from .helpers import breaches, days_shifts, roster, shift

WEEK = [f"2026-12-{d:02d}" for d in range(7, 14)]  # Monday 7 – Sunday 13 December


def weekly(shifts, period=("2026-12-07", "2026-12-13")):
    return breaches(roster(shifts, period=period), "weekly_rest")


def test_five_day_week_has_its_weekly_rest():
    """Monday–Friday mornings leave Friday 15:30 to Monday 00:00 free (56.5 h): no breach."""
    assert weekly(days_shifts(WEEK[:5])) == []


def test_seven_days_in_a_row_is_a_breach():
    """Mornings every day of the week leave at most 15.5 h: a breach for that 7-day period."""
    found = weekly(days_shifts(WEEK))
    assert [(b["start"], b["end"]) for b in found] == [("2026-12-07T00:00", "2026-12-14T00:00")]
    assert "15.5 h" in found[0]["detail"]


def test_rest_straddling_the_end_of_the_period_counts_only_inside_it():
    """Monday–Saturday mornings: Saturday 15:30 to the period's end is 32.5 h, a breach, even
    if the person is free on the following Monday morning."""
    found = weekly(days_shifts(WEEK[:6]))
    assert len(found) == 1 and "32.5 h" in found[0]["detail"]


# Exactly 36 h free from Wednesday 12:00 to Friday 00:00.
EXACT = days_shifts(WEEK[:2]) + [
    shift("2026-12-09T04:00", "2026-12-09T12:00"),
    shift("2026-12-11T00:00", "2026-12-11T08:00"),
] + days_shifts(WEEK[5:])  # fmt: skip


def test_exactly_36_hours_is_enough():
    """A single free stretch of exactly 36 h in the week: no breach."""
    assert weekly(EXACT) == []


def test_half_an_hour_less_is_a_breach():
    """The same week with Friday's shift from Thursday 23:30: 35.5 h, a breach."""
    shorter = [s for s in EXACT if not s["start"].startswith("2026-12-11")]
    shorter.append(shift("2026-12-10T23:30", "2026-12-11T08:00"))
    found = weekly(shorter)
    assert len(found) == 1 and "35.5 h" in found[0]["detail"]


def test_spring_forward_shortens_a_weekend_by_an_hour():
    """Saturday 12:00 to Monday 00:00 over 2026-03-29 is 36 wall-clock hours but 35 real."""
    week = [f"2026-03-{d:02d}" for d in range(23, 28)]
    shifts = days_shifts(week) + [shift("2026-03-28T04:00", "2026-03-28T12:00")]
    found = weekly(shifts, period=("2026-03-23", "2026-03-29"))
    assert len(found) == 1 and "35.0 h" in found[0]["detail"]


def test_fall_back_lengthens_a_weekend_by_an_hour():
    """Saturday 13:00 to Monday 00:00 over 2026-10-25 is 35 wall-clock hours but 36 real."""
    week = [f"2026-10-{d:02d}" for d in range(19, 24)]
    shifts = days_shifts(week) + [shift("2026-10-24T05:00", "2026-10-24T13:00")]
    assert weekly(shifts, period=("2026-10-19", "2026-10-25")) == []


def test_a_shorter_last_period_runs_on_past_the_end():
    """A 10-day roster: the second 7-day period (Monday–Wednesday in the roster) is checked
    over seven days, the days after the roster counting as free: no breach."""
    days = WEEK[:5] + ["2026-12-14", "2026-12-15", "2026-12-16"]
    assert weekly(days_shifts(days), period=("2026-12-07", "2026-12-16")) == []


def test_the_period_is_counted_from_the_rosters_first_day():
    """Periods from Thursday: Thursday–Wednesday mornings every day is a breach in the first."""
    days = [f"2026-12-{d:02d}" for d in range(10, 17)]
    found = weekly(days_shifts(days), period=("2026-12-10", "2026-12-23"))
    assert [b["start"] for b in found] == ["2026-12-10T00:00"]
