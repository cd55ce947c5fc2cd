"""Local Stockholm wall-clock times in, real elapsed seconds out.

A roster is written in local time without offset, as a manager reads it on the wall chart.
Every rule, though, is about elapsed time: a night shift 22:00–07:00 into the last Sunday of
March lasts 8 hours, into the last Sunday of October 10. So each time is turned into a POSIX
timestamp (integer seconds) once, at the edge, and all arithmetic happens on those.

A wall time that does not exist (02:30 on the March changeover) is refused; one that exists
twice (02:30 on the October changeover) is read as the first, summer-time occurrence (fold 0).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HOUR = 3600
DAY = 24 * HOUR

CLOCK_NONEXISTENT = "CLOCK_NONEXISTENT"
CLOCK_HAS_OFFSET = "CLOCK_HAS_OFFSET"


class ClockError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def local_check(value: datetime) -> datetime:
    """Return ``value`` if it is a naive wall time that exists in Stockholm; raise otherwise."""
    if value.tzinfo is not None:
        raise ClockError(
            CLOCK_HAS_OFFSET, "Write local Stockholm time without an offset (2026-12-07T07:00)."
        )
    aware = value.replace(tzinfo=STOCKHOLM)
    back = aware.astimezone(UTC).astimezone(STOCKHOLM).replace(tzinfo=None)
    if back != value:
        raise ClockError(
            CLOCK_NONEXISTENT,
            f"{value.isoformat(timespec='minutes')} does not exist in Stockholm "
            "(the clocks go forward from 02:00 to 03:00).",
        )
    return value


def to_ts(value: datetime) -> int:
    """Return the POSIX timestamp of a naive Stockholm wall time."""
    return int(value.replace(tzinfo=STOCKHOLM).timestamp())


@lru_cache(maxsize=8192)
def day_ts(day: date, at: str = "00:00") -> int:
    """Return the timestamp of ``day`` at the wall time ``at`` ("HH:MM").

    Cached: the rules ask for the same midnights and night boundaries for every person.
    """
    hh, mm = at.split(":")
    return to_ts(datetime.combine(day, time(int(hh), int(mm))))


def from_ts(ts: int) -> datetime:
    """Return the aware Stockholm datetime of a timestamp."""
    return datetime.fromtimestamp(ts, STOCKHOLM)


def fmt(ts: int) -> str:
    """Return a timestamp as local ISO 8601 without offset, minutes precision."""
    return from_ts(ts).replace(tzinfo=None).isoformat(timespec="minutes")


def local_date(ts: int) -> date:
    return from_ts(ts).date()


def hours(seconds: float) -> float:
    return round(seconds / HOUR, 2)


def days(start: date, end: date) -> list[date]:
    """Return the days from ``start`` to ``end`` inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
