"""The rules of the scan as plain functions: compulsory-school age, calendar, thresholds.

All figures come from the rule set (``rulesets.py``); nothing here holds a threshold.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flows.skolplikt.rulesets import Ruleset, month_parse

THRESHOLD_UNEXCUSED_PERCENT = "unexcused_percent"
THRESHOLD_TOTAL_PERCENT = "total_absence_percent"
THRESHOLD_UNEXCUSED_WHOLE_DAYS = "unexcused_whole_days"


@dataclass(frozen=True)
class Period:
    """An inclusive date interval."""

    start: date
    end: date

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end

    def intersect(self, other: Period) -> Period | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start <= end else None

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def days(self) -> list[date]:
        return [self.start + timedelta(n) for n in range((self.end - self.start).days + 1)]


def month_period(month: str) -> Period:
    year, number = month_parse(month)
    return Period(date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1]))


def compulsory_period(
    *, birth_date: date, ruleset: Ruleset, deferred: bool = False, special_school: bool = False
) -> Period:
    """Return the first and last day of compulsory school for a child born on ``birth_date``.

    From the autumn term of the calendar year the child turns six (7 kap. 10 §; a deferral
    moves it a year) until the end of the spring term of the tenth year after that (12 §;
    the eleventh in specialskolan). Only the calendar year of the birth counts, so a child
    born on 31 December starts the same August as one born on 1 January.
    """
    start_year = birth_date.year + ruleset.start_age
    if deferred:
        start_year += ruleset.deferred_start_extra_years
    years = ruleset.years_of_compulsory_school + (1 if special_school else 0)
    start_month, start_day = ruleset.start_month_day
    end_month, end_day = ruleset.end_month_day
    return Period(
        date(start_year, start_month, start_day), date(start_year + years, end_month, end_day)
    )


def is_school_day(day: date) -> bool:
    """Monday to Friday. Holidays and breaks show in the schools' offered time, not here."""
    return day.weekday() < 5


def iso_week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def longest_run(days: list[date], uncovered: set[date]) -> list[date]:
    """Return the longest run of consecutive entries of ``days`` that are all uncovered."""
    best: list[date] = []
    current: list[date] = []
    for day in days:
        if day in uncovered:
            current.append(day)
            if len(current) > len(best):
                best = list(current)
        else:
            current = []
    return best


def percent(part: int, whole: int) -> Decimal:
    """Return ``part`` as a percentage of ``whole``, one decimal, half up (0 when whole is 0)."""
    if whole <= 0:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def absence_thresholds_met(
    *, scheduled: int, unexcused: int, absent: int, unexcused_whole_days: int, ruleset: Ruleset
) -> tuple[str, ...]:
    """Return the thresholds the month's figures reach (compared exactly, not rounded).

    Nothing is met without scheduled time: a month with no offered time says nothing about
    attendance.
    """
    if scheduled <= 0:
        return ()
    met = []
    if unexcused * 100 >= ruleset.unexcused_percent * scheduled:
        met.append(THRESHOLD_UNEXCUSED_PERCENT)
    if absent * 100 >= ruleset.total_absence_percent * scheduled:
        met.append(THRESHOLD_TOTAL_PERCENT)
    if unexcused_whole_days >= ruleset.unexcused_whole_days:
        met.append(THRESHOLD_UNEXCUSED_WHOLE_DAYS)
    return tuple(met)
