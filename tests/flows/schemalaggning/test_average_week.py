"""ATL 5 §: at most 40 h a week on average per reference period; the contract's hours."""

from datetime import date, timedelta

from flows.schemalaggning.rules import roster_summary

from .helpers import breaches, person, roster, shift

START = date(2027, 1, 4)  # a Monday
FOUR_WEEKS = ("2027-01-04", "2027-01-31")


def weekdays(week, count, start="07:00", end="15:00"):
    """``count`` 8-hour shifts from the Monday of ``week`` (0-based)."""
    first = START + timedelta(days=7 * week)
    return [
        shift(f"{first + timedelta(days=i)}T{start}", f"{first + timedelta(days=i)}T{end}")
        for i in range(count)
    ]


def found(shifts, rate=1.0, **options):
    data = roster(shifts, staff=[person(rate=rate)], period=FOUR_WEEKS,
                  rule_options=options or None)  # fmt: skip
    return breaches(data, "average_week")


def test_forty_hours_every_week_is_within_law_and_contract():
    """5 × 8 h for four weeks at full time: no breach."""
    assert found(sum((weekdays(w, 5) for w in range(4)), [])) == []


def test_one_long_week_raises_the_average_above_forty():
    """48 h in week one and 40 h in the others average 42 h: a breach for the 4-week period;
    168 h is exactly the contract's 160 h + 8 h tolerance, so the contract holds."""
    result = found(weekdays(0, 6) + sum((weekdays(w, 5) for w in range(1, 4)), []))
    assert [(b["start"], b["end"]) for b in result] == [("2027-01-04T00:00", "2027-02-01T00:00")]
    assert "42.0 h a week" in result[0]["detail"]


def test_a_long_week_balanced_by_a_short_one_is_allowed():
    """48 h, 32 h, 40 h, 40 h average 40 h: no breach."""
    shifts = weekdays(0, 6) + weekdays(1, 4) + weekdays(2, 5) + weekdays(3, 5)
    assert found(shifts) == []


def test_a_one_week_reference_period_flags_the_long_week_only():
    """With one-week reference periods the 48-hour week is a breach on its own."""
    shifts = weekdays(0, 6) + weekdays(1, 4) + weekdays(2, 5) + weekdays(3, 5)
    result = [b for b in found(shifts, average_week_reference_weeks=1) if "a week" in b["detail"]]
    assert [b["start"] for b in result] == ["2027-01-04T00:00"]


def test_hours_beyond_the_employment_rate_are_a_breach():
    """Full-time hours for someone at 0.75 (120 h ± 8 h): a contract breach."""
    result = found(sum((weekdays(w, 5) for w in range(4)), []), rate=0.75)
    assert len(result) == 1
    assert "Scheduled 160.0 h against 120.0 h contracted" in result[0]["detail"]


def test_leave_reduces_the_contracted_hours():
    """A week of leave at full time: 120 h are contracted, 3 × 40 h meet it."""
    shifts = sum((weekdays(w, 5) for w in (0, 2, 3)), [])
    data = roster(shifts, period=FOUR_WEEKS,
                  leave=[{"staff": "s1", "start": "2027-01-11", "end": "2027-01-17"}])  # fmt: skip
    assert breaches(data, "average_week") == []


def test_hours_are_real_elapsed_time_over_the_clock_changes():
    """A 22:00–07:00 night is 8 h into 2026-03-29 and 10 h into 2026-10-25."""
    spring = roster([shift("2026-03-28T22:00", "2026-03-29T07:00")])
    autumn = roster([shift("2026-10-24T22:00", "2026-10-25T07:00")])
    assert roster_summary(spring)["s1"]["scheduled_hours"] == 8.0
    assert roster_summary(autumn)["s1"]["scheduled_hours"] == 10.0


def test_a_shift_across_the_reference_boundary_is_split_between_periods():
    """A night from the last Sunday of a 1-week period counts 2 h in it and 7 h in the next."""
    shifts = weekdays(0, 4) + [shift("2027-01-10T22:00", "2027-01-11T07:00")] + weekdays(1, 4)
    data = roster(shifts, period=("2027-01-04", "2027-01-17"),
                  rule_options={"average_week_reference_weeks": 1})  # fmt: skip
    assert [b for b in breaches(data, "average_week") if "a week" in b["detail"]] == []
    over = weekdays(0, 5) + [shift("2027-01-10T22:00", "2027-01-11T07:00")] + weekdays(1, 4)
    data["shifts"] = over
    result = [b for b in breaches(data, "average_week") if "a week" in b["detail"]]
    assert [b["start"] for b in result] == ["2027-01-04T00:00"]
    assert "42.0 h in 7 days" in result[0]["detail"]
