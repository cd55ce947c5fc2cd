"""ATL 13 a §: a night worker works at most 8 h per 24-hour period on average."""

from datetime import date, datetime, timedelta

from flows.schemalaggning.clock import to_ts
from flows.schemalaggning.rules import night_seconds, roster_summary
from flows.schemalaggning.rulesets import ATL_2026

from .helpers import breaches, person, roster, shift

START = date(2027, 1, 4)
FOUR_WEEKS = ("2027-01-04", "2027-01-31")


def nights(per_week, start="22:00", end="08:00", weeks=4):
    out = []
    for w in range(weeks):
        for i in range(per_week):
            day = START + timedelta(days=7 * w + i)
            out.append(shift(f"{day}T{start}", f"{day + timedelta(days=1)}T{end}"))
    return out


def found(shifts, staff=None, **options):
    data = roster(shifts, staff=staff or [person(night_only=True)], period=FOUR_WEEKS,
                  rule_options=options or None)  # fmt: skip
    return breaches(data, "night_work")


def test_five_ten_hour_nights_a_week_exceed_eight_hours_on_average():
    """200 h over 28 days less four weekly rests (22 periods) is 9.09 h: a breach."""
    result = found(nights(5))
    assert len(result) == 1 and "9.09 h per period" in result[0]["detail"]


def test_four_nights_a_week_are_within_the_average():
    """4 × 9.5 h a week: 152 h over 22 periods is 6.91 h: no breach."""
    assert found(nights(4, start="21:45", end="07:15")) == []


def test_counting_the_weekly_rest_as_periods_is_an_option():
    """5 × 9.5 h a week: 8.64 h with the weekly rest left out, 6.79 h with it counted."""
    shifts = nights(5, start="21:45", end="07:15")
    assert len(found(shifts)) == 1
    assert found(shifts, night_average_excludes_weekly_rest=False) == []


def test_a_day_worker_is_not_held_to_the_night_rule():
    """Long day shifts by someone who does not work nights are no night_work breach."""
    days = [shift(f"{START + timedelta(days=i)}T07:00", f"{START + timedelta(days=i)}T17:00")
            for i in range(0, 26)]  # fmt: skip
    assert found(days, staff=[person()]) == []


def test_someone_who_normally_works_three_night_hours_is_a_night_worker():
    """Three of five shifts with at least 3 h in 22–06 make a night worker (13 a §); two of
    five with under a third of the hours at night do not."""
    shifts = nights(3, weeks=1) + [shift("2027-01-08T07:00", "2027-01-08T15:00"),
                                   shift("2027-01-09T07:00", "2027-01-09T15:00")]  # fmt: skip
    assert roster_summary(roster(shifts, staff=[person()]))["s1"]["night_worker"] is True
    # Two of five, and 16 of 50 hours at night (less than a third): not a night worker.
    shifts = nights(2, weeks=1) + [shift(f"2027-01-{d:02d}T07:00", f"2027-01-{d:02d}T17:00")
                                   for d in (7, 8, 9)]  # fmt: skip
    assert roster_summary(roster(shifts, staff=[person()]))["s1"]["night_worker"] is False


def test_the_night_is_seven_hours_in_march_and_nine_in_october():
    """22:00–06:00 across the clock changes is 7 h on 2026-03-29 and 9 h on 2026-10-25."""
    spring = night_seconds(to_ts(datetime(2026, 3, 28, 20)), to_ts(datetime(2026, 3, 29, 8)),
                           ATL_2026)  # fmt: skip
    autumn = night_seconds(to_ts(datetime(2026, 10, 24, 20)), to_ts(datetime(2026, 10, 25, 8)),
                           ATL_2026)  # fmt: skip
    assert (spring, autumn) == (7 * 3600, 9 * 3600)
