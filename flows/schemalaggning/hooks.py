"""The hooks the core calls for schemaläggning (approvals.registry lists them)."""

from __future__ import annotations


def parties(*, payload: dict) -> list[tuple[str, str, str]]:
    """Nobody: a roster is about the unit's staff, named by staff id, never by personnummer."""
    return []


def case_data(*, payload: dict) -> dict:
    """The unit and the roster's period (from the input, or its default from the needs)."""
    from .roster import roster_build

    built = roster_build(payload["roster"])
    start, end = built.period_start.isoformat(), built.period_end.isoformat()
    return {
        "unit": payload["unit"],
        "input": payload.get("input", ""),
        "period": f"{start} – {end}",
        "period_start": start,
        "period_end": end,
        "staff": len(built.staff),
    }


def case_panel_context(*, case, material) -> dict:
    from .panel import case_panel_context as context

    return context(case=case, material=material)


def demo_load(*, org: dict) -> None:
    from .demo import demo_load as load

    load(org=org)
