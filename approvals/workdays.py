"""Working days (Mon–Fri), for due dates and deadlines."""

from datetime import date, timedelta


def working_days_after(start: date, days: int) -> date:
    """The date `days` working days (Mon–Fri) after start."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current
