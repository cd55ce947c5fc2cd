"""Swedish banking days: weekdays that are neither public holidays nor bank holidays.

Public holidays (*allmänna helgdagar*) follow Lag (1989:253) om allmänna helgdagar:
nyårsdagen, trettondedag jul, långfredagen, påskdagen, annandag påsk, första maj,
Kristi himmelsfärdsdag, pingstdagen, nationaldagen (6 June), midsommardagen (the
Saturday 20–26 June), alla helgons dag (the Saturday 31 October–6 November),
juldagen and annandag jul. Swedish banks are also closed on midsommarafton,
julafton and nyårsafton, which the law does not list, so they are added here.
Computed rather than taken from a package: the rule is short, fixed by law, and the
banks' own additions are what matters for deposit windows.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _saturday_between(start: date) -> date:
    """The Saturday in the seven days from ``start``."""
    return start + timedelta(days=(5 - start.weekday()) % 7)


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """Days of ``year`` on which Swedish banks book nothing (besides Saturdays and Sundays)."""
    easter = easter_sunday(year)
    midsummer_day = _saturday_between(date(year, 6, 20))
    days = {
        date(year, 1, 1),  # nyårsdagen
        date(year, 1, 6),  # trettondedag jul
        easter - timedelta(days=2),  # långfredagen
        easter,  # påskdagen
        easter + timedelta(days=1),  # annandag påsk
        date(year, 5, 1),  # första maj
        easter + timedelta(days=39),  # Kristi himmelsfärdsdag
        easter + timedelta(days=49),  # pingstdagen
        date(year, 6, 6),  # Sveriges nationaldag
        midsummer_day,  # midsommardagen
        midsummer_day - timedelta(days=1),  # midsommarafton (bank holiday)
        _saturday_between(date(year, 10, 31)),  # alla helgons dag
        date(year, 12, 24),  # julafton (bank holiday)
        date(year, 12, 25),  # juldagen
        date(year, 12, 26),  # annandag jul
        date(year, 12, 31),  # nyårsafton (bank holiday)
    }
    return frozenset(days)


def is_banking_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_banking_days(day: date, n: int) -> date:
    """The ``n``-th banking day after ``day`` (``n`` ≥ 1); ``day`` itself need not be one."""
    if n < 1:
        raise ValueError("n must be at least 1")
    current = day
    while n:
        current += timedelta(days=1)
        if is_banking_day(current):
            n -= 1
    return current


def banking_day_window(day: date, first: int, last: int) -> tuple[date, date]:
    """The first and last banking day on which money for ``day`` may be booked.

    ``first`` = 0 means the day itself when it is a banking day (else the next one).
    """
    start = day if first == 0 and is_banking_day(day) else add_banking_days(day, max(first, 1))
    end = add_banking_days(day, last) if last >= 1 else start
    return start, end
