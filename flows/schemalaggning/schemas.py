"""The roster JSON, validated at the edge: one model for ``roster_check`` and ``roster_propose``.

```
{"staff":  [{"id": "s1", "employment_rate": 0.75, "roles": ["usk"], "night_only": false,
             "competences": ["delegated_medication"], "nights": false, "name": "..."}],
 "shifts": [{"staff": "s1", "start": "2026-12-07T07:00", "end": "2026-12-07T15:30",
             "need": "2026-12-07/morning/1"}],
 "needs":  [{"id": "...", "date": "2026-12-07", "shift": "morning", "count": 3,
             "roles": ["usk", "ssk"], "competences": ["delegated_medication"]}],
 "shift_types": {"morning": {"start": "07:00", "end": "15:30"}, ...},
 "leave":  [{"staff": "s1", "start": "2026-12-10", "end": "2026-12-12", "kind": "semester"}],
 "wishes": [{"staff": "s1", "date": "2026-12-24", "shift": null, "kind": "off", "weight": 3}],
 "period": {"start": "2026-12-07", "end": "2027-01-03"},
 "rules": "atl-2026", "rule_options": {"daily_rest_reference": "rolling_24h"}}
```

Times are local Europe/Stockholm without offset. A need asks for ``count`` people on one
shift of one day; ``roles`` are alternatives (any of), ``competences`` are all required.
A shift type's end at or before its start means the next day. Leave days are inclusive.
Everything but ``staff`` is optional; unknown fields are refused.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .clock import ClockError, local_check, to_ts

ROLES = ("usk", "ssk", "vb")  # undersköterska, sjuksköterska, vårdbiträde
Role = Literal["usk", "ssk", "vb"]
Ident = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.:/-]+$")]
Competence = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_SHIFT_HOURS = 24

DEFAULT_SHIFT_TYPES = {
    "morning": {"start": "07:00", "end": "15:30"},
    "evening": {"start": "14:00", "end": "22:00"},
    "night": {"start": "21:45", "end": "07:15"},
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _local(value: datetime) -> datetime:
    try:
        return local_check(value)
    except ClockError as exc:
        raise ValueError(exc.message) from None


class StaffIn(Strict):
    id: Ident
    name: str | None = Field(default=None, max_length=120)
    employment_rate: float = Field(gt=0, le=1)
    roles: list[Role] = Field(min_length=1)
    competences: list[Competence] = []
    night_only: bool = False
    # May be given night shifts (implied by night_only).
    nights: bool = False

    @property
    def works_nights(self) -> bool:
        return self.night_only or self.nights


class ShiftIn(Strict):
    staff: Ident
    start: datetime
    end: datetime
    # The need this shift was planned to cover; set by the proposer and kept on edits.
    need: Ident | None = None
    shift: Ident | None = None

    _local = field_validator("start", "end")(_local)

    @model_validator(mode="after")
    def _order(self):
        length = to_ts(self.end) - to_ts(self.start)
        if length <= 0:
            raise ValueError("A shift must end after it starts.")
        if length > MAX_SHIFT_HOURS * 3600:
            raise ValueError(f"A shift may last at most {MAX_SHIFT_HOURS} hours.")
        return self


class ShiftTypeIn(Strict):
    start: str
    end: str
    label: str | None = Field(default=None, max_length=60)

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("Write the time of day as HH:MM.")
        return value


class NeedIn(Strict):
    id: Ident | None = None
    date: date
    shift: Ident
    count: int = Field(ge=1, le=100)
    roles: list[Role] = []
    competences: list[Competence] = []


class LeaveIn(Strict):
    staff: Ident
    start: date
    end: date
    kind: str | None = Field(default=None, max_length=60)

    @model_validator(mode="after")
    def _order(self):
        if self.end < self.start:
            raise ValueError("Leave must end on or after the day it starts.")
        return self


class WishIn(Strict):
    staff: Ident
    date: date
    shift: Ident | None = None  # None: the whole day
    kind: Literal["off", "work"]
    weight: int = Field(default=1, ge=1, le=10)


class PeriodIn(Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _order(self):
        if self.end < self.start:
            raise ValueError("The period must end on or after its first day.")
        if (self.end - self.start).days > 7 * 26:
            raise ValueError("A roster period may be at most 26 weeks.")
        return self


class RosterIn(Strict):
    staff: list[StaffIn] = Field(min_length=1)
    shifts: list[ShiftIn] = []
    needs: list[NeedIn] = []
    shift_types: dict[Ident, ShiftTypeIn] = Field(
        default_factory=lambda: {k: ShiftTypeIn(**v) for k, v in DEFAULT_SHIFT_TYPES.items()}
    )
    leave: list[LeaveIn] = []
    wishes: list[WishIn] = []
    period: PeriodIn | None = None
    rules: str = "atl-2026"
    rule_options: dict[str, str | int | float | bool] | None = None

    @model_validator(mode="after")
    def _references(self):
        ids = [s.id for s in self.staff]
        duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
        if duplicates:
            raise ValueError(f"Staff ids must be unique: {', '.join(duplicates)}.")
        known = set(ids)
        for label, rows in (
            ("shifts", self.shifts),
            ("leave", self.leave),
            ("wishes", self.wishes),
        ):
            for i, row in enumerate(rows):
                if row.staff not in known:
                    raise ValueError(f"{label}[{i}]: unknown staff {row.staff!r}.")
        for i, need in enumerate(self.needs):
            if need.shift not in self.shift_types:
                raise ValueError(f"needs[{i}]: unknown shift type {need.shift!r}.")
        for i, wish in enumerate(self.wishes):
            if wish.shift is not None and wish.shift not in self.shift_types:
                raise ValueError(f"wishes[{i}]: unknown shift type {wish.shift!r}.")
        if self.period is not None:
            inside = self.period.start, self.period.end
            for label, rows in (("needs", self.needs), ("wishes", self.wishes)):
                for i, row in enumerate(rows):
                    if not inside[0] <= row.date <= inside[1]:
                        raise ValueError(f"{label}[{i}]: {row.date} is outside the period.")
        # Give every need an id, stable across runs: date/shift/ordinal.
        seen: dict[tuple, int] = {}
        for need in self.needs:
            if need.id is None:
                key = (need.date, need.shift)
                seen[key] = seen.get(key, 0) + 1
                need.id = f"{need.date.isoformat()}/{need.shift}/{seen[key]}"
        need_ids = [n.id for n in self.needs]
        duplicates = sorted(i for i, n in Counter(need_ids).items() if n > 1)
        if duplicates:
            raise ValueError(f"Need ids must be unique: {', '.join(duplicates)}.")
        known_needs = set(need_ids)
        for i, shift in enumerate(self.shifts):
            if shift.need is not None and shift.need not in known_needs:
                raise ValueError(f"shifts[{i}]: unknown need {shift.need!r}.")
        return self
