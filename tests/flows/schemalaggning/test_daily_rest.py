"""ATL 13 §: 11 consecutive hours off in every 24-hour period, as the rule set counts it."""

import pytest

from .helpers import breaches, roster, shift

PERIOD = ("2026-12-07", "2026-12-13")


def rest(shifts, **options):
    data = roster(shifts, period=PERIOD, rule_options=options or None)
    return breaches(data, "daily_rest")


def test_day_shifts_every_day_keep_the_daily_rest():
    """Morning shifts 07:00–15:30 on consecutive days leave 15.5 h rest: no breach."""
    assert rest([shift("2026-12-07T07:00", "2026-12-07T15:30"),
                 shift("2026-12-08T07:00", "2026-12-08T15:30")]) == []  # fmt: skip


def test_evening_then_morning_is_a_breach():
    """Evening 14–22 then morning 07:00 leaves 9 h: a breach in the period from 14:00."""
    found = rest([shift("2026-12-07T14:00", "2026-12-07T22:00"),
                  shift("2026-12-08T07:00", "2026-12-08T15:30")])  # fmt: skip
    assert [(b["start"], b["end"]) for b in found] == [("2026-12-07T14:00", "2026-12-08T14:00")]
    assert "Longest rest 9.0 h" in found[0]["detail"]


def test_exactly_eleven_hours_is_enough():
    """13:00–20:00 then 07:00 next day is exactly 11 h of rest: no breach."""
    assert rest([shift("2026-12-07T13:00", "2026-12-07T20:00"),
                 shift("2026-12-08T07:00", "2026-12-08T15:30")]) == []  # fmt: skip


def test_half_an_hour_short_is_a_breach():
    """13:00–20:30 then 07:00 leaves 10.5 h: a breach."""
    found = rest([shift("2026-12-07T13:00", "2026-12-07T20:30"),
                  shift("2026-12-08T07:00", "2026-12-08T15:30")])  # fmt: skip
    assert len(found) == 1 and "10.5 h" in found[0]["detail"]


def test_night_shift_across_midnight_counts_from_its_end():
    """A night 21:45–07:15 followed by 18:15 the same evening leaves 11 h; 18:00 leaves 10.75."""
    night = shift("2026-12-07T21:45", "2026-12-08T07:15")
    assert rest([night, shift("2026-12-08T18:15", "2026-12-09T01:00")]) == []
    found = rest([night, shift("2026-12-08T18:00", "2026-12-09T01:00")])
    assert len(found) == 1 and "10.75 h" in found[0]["detail"]


def test_spring_forward_makes_a_wall_clock_eleven_hours_ten():
    """20:00 Saturday to 07:00 on 2026-03-29 is 11 wall-clock hours but 10 real: a breach."""
    found = rest_in("2026-03-23", "2026-03-29", [
        shift("2026-03-28T12:00", "2026-03-28T20:00"),
        shift("2026-03-29T07:00", "2026-03-29T15:00"),
    ])  # fmt: skip
    assert len(found) == 1 and "Longest rest 10.0 h" in found[0]["detail"]


def test_fall_back_makes_a_wall_clock_ten_hours_eleven():
    """21:00 Saturday to 07:00 on 2026-10-25 is 10 wall-clock hours but 11 real: no breach."""
    assert rest_in("2026-10-19", "2026-10-25", [
        shift("2026-10-24T13:00", "2026-10-24T21:00"),
        shift("2026-10-25T07:00", "2026-10-25T15:00"),
    ]) == []  # fmt: skip


def rest_in(first, last, shifts, **options):
    return breaches(roster(shifts, period=(first, last), rule_options=options or None),
                    "daily_rest")  # fmt: skip


# Monday 07–15:30, Tuesday 05–13, Tuesday 23:30–Wednesday 07: the AB working-day periods
# (from Monday 07:00, then from Tuesday 23:30) each hold 11 h of rest; the 24 hours from
# Tuesday 05:00 hold only 10.5.
MIXED = [
    shift("2026-12-07T07:00", "2026-12-07T15:30"),
    shift("2026-12-08T05:00", "2026-12-08T13:00"),
    shift("2026-12-08T23:30", "2026-12-09T07:00"),
]


def test_working_day_reference_anchors_periods_at_the_start_of_work():
    """With AB's working-day periods the mixed week has no daily-rest breach."""
    assert rest(MIXED) == []


def test_rolling_reference_checks_24_hours_from_every_shift():
    """Counted from every shift start, the period from Tuesday 05:00 has only 10.5 h rest."""
    found = rest(MIXED, daily_rest_reference="rolling_24h")
    assert [(b["start"], b["end"]) for b in found] == [("2026-12-08T05:00", "2026-12-09T05:00")]


def test_calendar_day_reference_uses_fixed_periods_from_day_start():
    """Fixed periods from 07:00: evening then morning breaks the 07–07 day; mornings do not."""
    options = {"daily_rest_reference": "calendar_day", "day_start": "07:00"}
    found = rest([shift("2026-12-07T14:00", "2026-12-07T22:00"),
                  shift("2026-12-08T07:00", "2026-12-08T15:30")], **options)  # fmt: skip
    assert [(b["start"], b["end"]) for b in found] == [("2026-12-07T07:00", "2026-12-08T07:00")]
    assert rest([shift("2026-12-07T07:00", "2026-12-07T15:30"),
                 shift("2026-12-08T07:00", "2026-12-08T15:30")], **options) == []  # fmt: skip


def test_time_after_the_period_counts_as_rest():
    """A night shift crossing the period's end is checked; after it the roster knows no work."""
    assert rest([shift("2026-12-13T21:45", "2026-12-14T07:15")]) == []


@pytest.mark.parametrize("hours", [9, 10.5])
def test_an_agreement_cannot_go_below_the_law(hours):
    """A rule option of less than 11 h daily rest is refused with RULESET_BELOW_LAW."""
    from flows.schemalaggning.roster import RosterError

    with pytest.raises(RosterError) as info:
        rest([shift("2026-12-07T07:00", "2026-12-07T15:30")], daily_rest_hours=hours)
    assert info.value.code == "RULESET_BELOW_LAW"
