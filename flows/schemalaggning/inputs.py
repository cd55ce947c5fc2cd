"""The roster inputs a manager may ask a proposal for: per unit, a labelled file each.

A unit's staff, needs, leave and wishes come from the personnel system in a real
municipality; here they are synthetic files in ``data/schemalaggning/`` (the folder is
the setting ``ROSTER_INPUT_DIR``). The request page offers only the inputs of the
manager's own unit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .roster import RosterError, roster_build

INPUT_UNKNOWN = "INPUT_UNKNOWN"
INPUT_UNREADABLE = "INPUT_UNREADABLE"


@dataclass(frozen=True)
class RosterInput:
    key: str
    label: str
    file: str


INPUTS: dict[str, tuple[RosterInput, ...]] = {
    "aon-hemtjanst-norr": (
        RosterInput(
            "hemtjanst-norr-2027-01",
            "Januari 2027: 15 personal, 4 veckor från måndag 4 januari",
            "hemtjanst-norr-2027-01.json",
        ),
        RosterInput(
            "hemtjanst-norr-2027-v1-liten",
            "Vecka 1 2027 (övningsschema): 3 personal, 4–10 januari",
            "hemtjanst-norr-2027-v1-liten.json",
        ),
    ),
}


class InputError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def input_dir() -> Path:
    configured = getattr(settings, "ROSTER_INPUT_DIR", None)
    return Path(configured) if configured else Path(settings.BASE_DIR) / "data" / "schemalaggning"


def inputs_for(unit_code: str) -> tuple[RosterInput, ...]:
    return INPUTS.get(unit_code, ())


def input_load(unit_code: str, key: str) -> tuple[RosterInput, str, dict]:
    """Return (the input, its raw text, the parsed and validated roster dict)."""
    chosen = next((i for i in inputs_for(unit_code) if i.key == key), None)
    if chosen is None:
        raise InputError(INPUT_UNKNOWN, f"No roster input {key!r} for this unit.")
    try:
        raw = (input_dir() / chosen.file).read_text(encoding="utf-8")
        data = json.loads(raw)
        roster_build(data)
    except (OSError, ValueError, RosterError) as exc:
        raise InputError(INPUT_UNREADABLE, f"The input {key!r} cannot be read: {exc}") from None
    return chosen, raw, data
