"""The manager's edits of a roster, as pure functions: a new roster dict out, the old one kept.

The grid's move and swap buttons call these on the server, then ``check`` on the result, so
the breaches shown after an edit are the same function's verdict as the proposal's. A moved
shift keeps its ``need``: moving a medication shift to someone without the delegation shows
at once as a ``competence`` breach.
"""

from __future__ import annotations

import copy

EDIT_NO_SUCH_SHIFT = "EDIT_NO_SUCH_SHIFT"
EDIT_NO_SUCH_STAFF = "EDIT_NO_SUCH_STAFF"


class EditError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _shift(roster: dict, index: int) -> dict:
    shifts = roster.get("shifts", [])
    if not isinstance(index, int) or not 0 <= index < len(shifts):
        raise EditError(EDIT_NO_SUCH_SHIFT, f"No shift number {index} in the roster.")
    return shifts[index]


def _staff(roster: dict, staff: str) -> None:
    if staff not in {s["id"] for s in roster["staff"]}:
        raise EditError(EDIT_NO_SUCH_STAFF, f"No staff {staff!r} in the unit.")


def shift_move(
    roster: dict,
    *,
    index: int,
    staff: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> dict:
    """Return ``roster`` with shift ``index`` given to ``staff`` and/or moved to new times."""
    result = copy.deepcopy(roster)
    shift = _shift(result, index)
    if staff is not None:
        _staff(result, staff)
        shift["staff"] = staff
    if start is not None:
        shift["start"] = start
    if end is not None:
        shift["end"] = end
    return result


def shift_swap(roster: dict, *, first: int, second: int) -> dict:
    """Return ``roster`` with the people of shifts ``first`` and ``second`` exchanged."""
    result = copy.deepcopy(roster)
    a, b = _shift(result, first), _shift(result, second)
    a["staff"], b["staff"] = b["staff"], a["staff"]
    return result


def shift_remove(roster: dict, *, index: int) -> dict:
    """Return ``roster`` without shift ``index`` (its need shows as uncovered)."""
    result = copy.deepcopy(roster)
    _shift(result, index)
    del result["shifts"][index]
    return result


def shift_add(roster: dict, *, staff: str, start: str, end: str, need: str | None = None) -> dict:
    """Return ``roster`` with one more shift."""
    result = copy.deepcopy(roster)
    _staff(result, staff)
    shift = {"staff": staff, "start": start, "end": end}
    if need is not None:
        shift["need"] = need
    result.setdefault("shifts", []).append(shift)
    return result
