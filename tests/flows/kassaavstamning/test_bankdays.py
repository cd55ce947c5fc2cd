"""Swedish banking days: weekends, public holidays and the banks' own holidays."""

from datetime import date

import pytest

from flows.kassaavstamning.bankdays import (
    add_banking_days,
    bank_holidays,
    banking_day_window,
    easter_sunday,
    is_banking_day,
)


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_sunday(year, easter):
    """Easter Sunday matches the published dates, including the late 2038 one."""
    assert easter_sunday(year) == easter


def test_holidays_2026():
    """2026: Good Friday 3 April, Ascension 14 May, midsummer eve 19 June, All Saints 31 October."""
    days = bank_holidays(2026)
    for day in (
        date(2026, 1, 1),
        date(2026, 1, 6),
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 5, 1),
        date(2026, 5, 14),
        date(2026, 6, 6),
        date(2026, 6, 19),
        date(2026, 6, 20),
        date(2026, 10, 31),
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2026, 12, 31),
    ):
        assert day in days
    assert date(2026, 11, 2) not in days  # no holiday in November 2026 (All Saints on 31 Oct)


def test_weekends_and_holidays_are_not_banking_days():
    """Saturday, Sunday and a weekday holiday are not banking days; an ordinary Monday is."""
    assert not is_banking_day(date(2026, 11, 7))
    assert not is_banking_day(date(2026, 11, 8))
    assert not is_banking_day(date(2026, 12, 24))
    assert is_banking_day(date(2026, 11, 9))


def test_add_banking_days_skips_christmas():
    """Three banking days after 23 December 2026 is 30 December (24–27 Dec are closed)."""
    assert add_banking_days(date(2026, 12, 23), 1) == date(2026, 12, 28)
    assert add_banking_days(date(2026, 12, 23), 3) == date(2026, 12, 30)
    # Maundy Thursday 2026 + 1 banking day skips Good Friday and Easter Monday.
    assert add_banking_days(date(2026, 4, 2), 1) == date(2026, 4, 7)


def test_window_from_a_saturday():
    """Money for a Saturday is due from the Monday; a same-day window starts on the next banking day."""
    assert banking_day_window(date(2026, 11, 7), 1, 3) == (date(2026, 11, 9), date(2026, 11, 11))
    assert banking_day_window(date(2026, 11, 7), 0, 1) == (date(2026, 11, 9), date(2026, 11, 9))
    assert banking_day_window(date(2026, 11, 9), 0, 1) == (date(2026, 11, 9), date(2026, 11, 10))
