"""What the case page's roster panel shows: the grid of the current draft and its verdict."""

from __future__ import annotations

from .drafts import EDIT_OPS
from .grid import roster_grid
from .schemas import DEFAULT_SHIFT_TYPES
from .solver import roster_of

SHIFT_TYPE_LABELS = {"morning": "Dag", "evening": "Kväll", "night": "Natt"}
RULE_LABELS = {
    "daily_rest": "Dygnsvila (ATL 13 §)",
    "weekly_rest": "Veckovila (ATL 14 §)",
    "average_week": "Arbetstid/avtalad tid (ATL 5 §)",
    "night_work": "Nattarbete (ATL 13 a §)",
    "competence": "Kompetens",
    "overlap": "Överlappande pass",
    "leave": "Pass under ledighet",
}


def case_panel_context(*, case, material) -> dict:
    """The grid, breaches, uncovered needs and per-person hours of the draft being edited.

    Before the manager edits anything, the draft is the robot's proposal as compiled.
    """
    from .models import RosterCalendar, RosterDraft

    if material is None:
        return {}
    proposal = material.proposal
    draft = RosterDraft.objects.filter(material=material).first()
    roster = roster_of(proposal)
    if draft is not None:
        roster = {**roster, "shifts": draft.shifts}
        verdict = draft.verdict
    else:
        verdict = {
            "breaches": proposal.get("breaches", []),
            "uncovered": proposal.get("uncovered", []),
        }
    grid = roster_grid(roster, verdict)
    types = roster.get("shift_types") or DEFAULT_SHIFT_TYPES
    uncovered = [u for day in grid["days"] for u in grid["uncovered_by_day"].get(day, [])]
    return {
        "grid": grid,
        "breaches": verdict["breaches"],
        "uncovered": uncovered,
        "rule_labels": RULE_LABELS,
        "draft_version": draft.version if draft else 0,
        "edits": draft.edits if draft else [],
        "shift_count": len(roster.get("shifts", [])),
        "max_index": max(len(roster.get("shifts", [])) - 1, 0),
        "staff": [(s["id"], s.get("name") or s["id"]) for s in roster["staff"]],
        "shift_types": [(code, SHIFT_TYPE_LABELS.get(code, code)) for code in types],
        "period": roster.get("period", {}),
        "explanations": proposal.get("explanations", []),
        "solver": proposal.get("solver", {}),
        "edit_ops": EDIT_OPS,
        "calendars": list(RosterCalendar.objects.filter(case=case).defer("ics")),
    }
