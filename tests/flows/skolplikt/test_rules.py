"""Compulsory-school age, rule-set lookup and thresholds (Skollag 7 kap. 10, 12 §§)."""

from datetime import date

import pytest

from flows.skolplikt.rules import (
    THRESHOLD_TOTAL_PERCENT,
    THRESHOLD_UNEXCUSED_PERCENT,
    THRESHOLD_UNEXCUSED_WHOLE_DAYS,
    Period,
    absence_thresholds_met,
    compulsory_period,
    longest_run,
    month_period,
    percent,
)
from flows.skolplikt.rulesets import (
    RULESET_MONTH_BEFORE_FIRST,
    RULESET_MONTH_FORMAT,
    SKOLPLIKT_2026,
    RulesetError,
    ruleset_for_month,
)

R = SKOLPLIKT_2026


def test_compulsory_from_autumn_term_of_year_turning_six_until_spring_term_ten_years_later():
    """Born in 2020: compulsory 1 Aug 2026 – 30 Jun 2036 (the year the child turns 16)."""
    assert compulsory_period(birth_date=date(2020, 5, 5), ruleset=R) == Period(
        date(2026, 8, 1), date(2036, 6, 30)
    )


def test_only_the_calendar_year_of_birth_counts():
    """Born 31 Dec 2020 starts in Aug 2026; born 1 Jan 2021 a year later."""
    december = compulsory_period(birth_date=date(2020, 12, 31), ruleset=R)
    january = compulsory_period(birth_date=date(2021, 1, 1), ruleset=R)
    assert december.start == date(2026, 8, 1)
    assert january.start == date(2027, 8, 1)


def test_term_boundaries_at_month_level():
    """Born 2010: June 2026 is the last compulsory month, July and August are not."""
    period = compulsory_period(birth_date=date(2010, 1, 1), ruleset=R)
    assert period.overlaps(month_period("2026-06"))
    assert not period.overlaps(month_period("2026-07"))
    assert not period.overlaps(month_period("2026-08"))
    born_2020 = compulsory_period(birth_date=date(2020, 8, 31), ruleset=R)
    assert not born_2020.overlaps(month_period("2026-07"))
    assert born_2020.overlaps(month_period("2026-08"))


def test_deferred_start_and_special_school_shift_the_period():
    """Uppskjuten skolplikt starts a year later; specialskolan ends a year later (12 §)."""
    deferred = compulsory_period(birth_date=date(2020, 5, 5), ruleset=R, deferred=True)
    special = compulsory_period(birth_date=date(2020, 5, 5), ruleset=R, special_school=True)
    assert deferred == Period(date(2027, 8, 1), date(2037, 6, 30))
    assert special == Period(date(2026, 8, 1), date(2037, 6, 30))


def test_thresholds_are_compared_exactly():
    """630 of 6 300 minutes is exactly 10 % and flags; 629 does not."""
    common = {"scheduled": 6300, "unexcused_whole_days": 0, "ruleset": R}
    assert absence_thresholds_met(unexcused=630, absent=630, **common) == (
        THRESHOLD_UNEXCUSED_PERCENT,
    )
    assert absence_thresholds_met(unexcused=629, absent=629, **common) == ()
    assert absence_thresholds_met(unexcused=0, absent=1260, **common) == (THRESHOLD_TOTAL_PERCENT,)
    assert absence_thresholds_met(unexcused=0, absent=1259, **common) == ()


def test_whole_days_threshold_and_no_schedule():
    """Three whole unexcused days flag; with no scheduled time nothing can flag."""
    assert absence_thresholds_met(
        scheduled=100_000, unexcused=900, absent=900, unexcused_whole_days=3, ruleset=R
    ) == (THRESHOLD_UNEXCUSED_WHOLE_DAYS,)
    assert (
        absence_thresholds_met(
            scheduled=0, unexcused=0, absent=0, unexcused_whole_days=5, ruleset=R
        )
        == ()
    )


def test_percent_rounds_half_up_to_one_decimal():
    """960/6300 = 15.238… → 15.2; 1/8 = 12.5; nothing of nothing is 0."""
    assert str(percent(960, 6300)) == "15.2"
    assert str(percent(1, 8)) == "12.5"
    assert str(percent(1, 16)) == "6.3"
    assert str(percent(0, 0)) == "0.0"


def test_longest_run_of_uncovered_days():
    """The longest consecutive run is returned, skipping covered days."""
    days = [date(2026, 11, d) for d in (2, 3, 4, 5, 6, 9)]
    assert longest_run(days, {days[0], days[2], days[3]}) == [days[2], days[3]]


def test_ruleset_lookup():
    """The rule set in force on the month's first day; bad or too-early months are errors."""
    assert ruleset_for_month("2026-11") is R
    for month, code in (("2026-13", RULESET_MONTH_FORMAT), ("2017-12", RULESET_MONTH_BEFORE_FIRST)):
        with pytest.raises(RulesetError) as info:
            ruleset_for_month(month)
        assert info.value.code == code
