"""The manager's edits of a proposal: stored per material, checked at once, signed as data.

An edit is a small JSON dict (``EDIT_OPS``); the final roster is always the material's
proposal with the edits applied in order (``roster_final``), so what the manager signs —
the edits and the final roster's hash — can be recomputed and compared when the robot
publishes. The draft (``RosterDraft``) only caches the result and its verdict for the grid.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from approvals.hashing import canonical_sha256

from .edits import EditError, shift_add, shift_move, shift_remove, shift_swap
from .roster import RosterError
from .rules import check
from .schemas import DEFAULT_SHIFT_TYPES
from .solver import roster_of

EDIT_OPS = ("move", "swap", "add", "remove")
EDIT_UNKNOWN_OP = "EDIT_UNKNOWN_OP"
EDIT_BAD_TIMES = "EDIT_BAD_TIMES"
DRAFT_STALE = "DRAFT_STALE"


def shift_times(roster: dict, day: date, shift_type: str) -> tuple[str, str]:
    """The local start and end of ``shift_type`` on ``day`` (an end at or before the start
    is the next day), as the roster JSON writes them."""
    types = roster.get("shift_types") or DEFAULT_SHIFT_TYPES
    if shift_type not in types:
        raise EditError(EDIT_BAD_TIMES, f"No shift type {shift_type!r} in the roster.")
    spec = types[shift_type]
    start = datetime.combine(day, datetime.strptime(spec["start"], "%H:%M").time())
    end = datetime.combine(day, datetime.strptime(spec["end"], "%H:%M").time())
    if end <= start:
        end += timedelta(days=1)
    return start.strftime("%Y-%m-%dT%H:%M"), end.strftime("%Y-%m-%dT%H:%M")


def edit_apply(roster: dict, edit: dict) -> dict:
    """Return ``roster`` with one edit applied (the input is not changed)."""
    op = edit.get("op")
    if op == "move":
        result = shift_move(
            roster,
            index=edit["index"],
            staff=edit.get("staff"),
            start=edit.get("start"),
            end=edit.get("end"),
        )
        if edit.get("shift"):
            result["shifts"][edit["index"]]["shift"] = edit["shift"]
        return result
    if op == "swap":
        return shift_swap(roster, first=edit["first"], second=edit["second"])
    if op == "remove":
        return shift_remove(roster, index=edit["index"])
    if op == "add":
        result = shift_add(roster, staff=edit["staff"], start=edit["start"], end=edit["end"])
        if edit.get("shift"):
            result["shifts"][-1]["shift"] = edit["shift"]
        return result
    raise EditError(EDIT_UNKNOWN_OP, f"Unknown edit {op!r}; one of {', '.join(EDIT_OPS)}.")


def roster_final(proposal: dict, edits: list[dict]) -> dict:
    """The roster the manager signs: the proposal's roster with every edit applied in order."""
    roster = roster_of(proposal)
    for edit in edits:
        roster = edit_apply(roster, edit)
    return roster


def shifts_sha256(shifts: list[dict]) -> str:
    return canonical_sha256(shifts)


def _verdict_of(proposal: dict) -> dict:
    return {"breaches": proposal.get("breaches", []), "uncovered": proposal.get("uncovered", [])}


def draft_for(material, *, create: bool = True):
    """The material's draft; made from the proposal (no edits) the first time."""
    from .models import RosterDraft

    draft = RosterDraft.objects.filter(material=material).first()
    if draft is None and create:
        shifts = roster_of(material.proposal).get("shifts", [])
        draft, _ = RosterDraft.objects.get_or_create(
            material=material,
            defaults={
                "case_id": material.case_id,
                "shifts": shifts,
                "shifts_sha256": shifts_sha256(shifts),
                "verdict": _verdict_of(material.proposal),
            },
        )
    return draft


class DraftRefused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def draft_edit(*, material, user, edit: dict, expected_version: int):
    """Apply one edit to the material's draft, re-check the roster, store both.

    Refused (``DraftRefused``) when the form was made for an older draft version (another
    edit came in between) or when the edit cannot be applied or checked; nothing is stored.
    """
    from .models import RosterDraft

    draft_for(material)
    with transaction.atomic():
        draft = RosterDraft.objects.select_for_update().get(material=material)
        if draft.version != expected_version:
            raise DraftRefused(
                DRAFT_STALE,
                "The roster was changed after this page was shown; look again and redo the edit.",
            )
        base = {**roster_of(material.proposal), "shifts": draft.shifts}
        try:
            edited = edit_apply(base, edit)
            verdict = check(edited)
        except EditError as exc:
            raise DraftRefused(exc.code, exc.message) from None
        except RosterError as exc:
            raise DraftRefused(exc.code, exc.message) from None
        draft.edits = [*draft.edits, edit]
        draft.shifts = edited["shifts"]
        draft.shifts_sha256 = shifts_sha256(edited["shifts"])
        draft.verdict = verdict
        draft.version += 1
        draft.updated_by = user
        draft.updated_at = timezone.now()
        draft.save()
    return draft


def draft_reset(*, material, user, expected_version: int):
    """Drop every edit: the draft is the robot's proposal again."""
    from .models import RosterDraft

    draft_for(material)
    with transaction.atomic():
        draft = RosterDraft.objects.select_for_update().get(material=material)
        if draft.version != expected_version:
            raise DraftRefused(DRAFT_STALE, "The roster was changed after this page was shown.")
        shifts = roster_of(material.proposal).get("shifts", [])
        draft.edits = []
        draft.shifts = shifts
        draft.shifts_sha256 = shifts_sha256(shifts)
        draft.verdict = _verdict_of(material.proposal)
        draft.version += 1
        draft.updated_by = user
        draft.updated_at = timezone.now()
        draft.save()
    return draft
