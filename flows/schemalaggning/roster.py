"""The validated roster turned into timestamps once, for the rules and the solver to share.

``roster_build`` takes a ``RosterIn`` (or the raw JSON dict) and returns a ``Roster`` whose
times are POSIX seconds. The period, when not given, runs from the Monday of the first
shift or need to the Sunday of the last: the 7-day and reference periods count from its
first day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import ValidationError

from .clock import day_ts, local_date, to_ts
from .rulesets import Ruleset, ruleset_get, ruleset_with
from .schemas import RosterIn

ROSTER_NO_PERIOD = "ROSTER_NO_PERIOD"
ROSTER_INVALID = "ROSTER_INVALID"


class RosterError(ValueError):
    """Input that cannot be checked; ``code`` is one of the ``ROSTER_*`` or ``RULESET_*``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Staff:
    id: str
    employment_rate: float
    roles: frozenset[str]
    competences: frozenset[str]
    night_only: bool
    nights: bool

    @property
    def works_nights(self) -> bool:
        return self.night_only or self.nights


@dataclass(frozen=True)
class Shift:
    staff: str
    start: int
    end: int
    need: str | None = None
    shift: str | None = None


@dataclass(frozen=True)
class Need:
    id: str
    date: date
    shift: str
    start: int
    end: int
    count: int
    roles: frozenset[str]
    competences: frozenset[str]

    def admits(self, staff: Staff) -> bool:
        """Whether ``staff`` has a role and every competence this need asks for."""
        if self.roles and not (self.roles & staff.roles):
            return False
        return self.competences <= staff.competences


@dataclass(frozen=True)
class Leave:
    staff: str
    start: int
    end: int
    first_day: date
    last_day: date
    kind: str | None


@dataclass
class Roster:
    staff: dict[str, Staff]
    shifts: list[Shift]
    needs: list[Need]
    leave: dict[str, list[Leave]]
    ruleset: Ruleset
    period_start: date
    period_end: date  # inclusive
    shift_types: dict[str, tuple[str, str]]
    source: RosterIn = field(repr=False)

    @property
    def start_ts(self) -> int:
        return day_ts(self.period_start)

    @property
    def end_ts(self) -> int:
        return day_ts(self.period_end + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1


def shift_type_interval(day: date, start: str, end: str) -> tuple[int, int]:
    """Return the timestamps of a shift type on ``day``; an end at or before the start is next day."""
    first = day_ts(day, start)
    next_day = day + timedelta(days=1) if end <= start else day
    return first, day_ts(next_day, end)


def _validate(data) -> RosterIn:
    if isinstance(data, RosterIn):
        return data
    try:
        return RosterIn.model_validate(data)
    except ValidationError as exc:
        raise RosterError(ROSTER_INVALID, f"Invalid roster:\n{exc}") from None


def roster_build(data) -> Roster:
    """Return the ``Roster`` of a validated ``RosterIn`` or of its JSON dict."""
    source = _validate(data)
    try:
        ruleset = ruleset_with(ruleset_get(source.rules), source.rule_options)
    except ValueError as exc:
        raise RosterError(getattr(exc, "code", ROSTER_INVALID), str(exc)) from None
    staff = {
        s.id: Staff(
            id=s.id,
            employment_rate=s.employment_rate,
            roles=frozenset(s.roles),
            competences=frozenset(s.competences),
            night_only=s.night_only,
            nights=s.nights,
        )
        for s in source.staff
    }
    types = {name: (t.start, t.end) for name, t in source.shift_types.items()}
    shifts = [
        Shift(staff=s.staff, start=to_ts(s.start), end=to_ts(s.end), need=s.need, shift=s.shift)
        for s in source.shifts
    ]
    needs = []
    for n in source.needs:
        start, end = shift_type_interval(n.date, *types[n.shift])
        needs.append(
            Need(
                id=n.id,
                date=n.date,
                shift=n.shift,
                start=start,
                end=end,
                count=n.count,
                roles=frozenset(n.roles),
                competences=frozenset(n.competences),
            )
        )
    leave: dict[str, list[Leave]] = {}
    for item in source.leave:
        leave.setdefault(item.staff, []).append(
            Leave(
                staff=item.staff,
                start=day_ts(item.start),
                end=day_ts(item.end + timedelta(days=1)),
                first_day=item.start,
                last_day=item.end,
                kind=item.kind,
            )
        )
    if source.period is not None:
        period_start, period_end = source.period.start, source.period.end
    else:
        firsts = [local_date(s.start) for s in shifts] + [n.date for n in needs]
        lasts = [local_date(s.end - 1) for s in shifts] + [n.date for n in needs]
        if not firsts:
            raise RosterError(ROSTER_NO_PERIOD, "Give a period, shifts or needs.")
        first, last = min(firsts), max(lasts)
        period_start = first - timedelta(days=first.weekday())
        period_end = last + timedelta(days=6 - last.weekday())
    return Roster(
        staff=staff,
        shifts=shifts,
        needs=needs,
        leave=leave,
        ruleset=ruleset,
        period_start=period_start,
        period_end=period_end,
        shift_types=types,
        source=source,
    )
