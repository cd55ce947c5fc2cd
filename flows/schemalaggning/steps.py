"""Schemaläggning steps that the flow's tasks call.

Each function takes ids, reads and writes Django, and returns ids or hashes: the roster
(staff ids, names, hours) never passes through Prefect.
"""

from __future__ import annotations

import os
from datetime import UTC

from django.conf import settings
from django.db import transaction

from approvals import services
from approvals.hashing import sha256_hex
from approvals.models import Case, Decision, Document
from approvals.registry import RETURNED

from .drafts import draft_for, roster_final, shifts_sha256
from .grid import roster_grid
from .ics import roster_ics
from .solver import propose, roster_of

DEFAULT_SOLVER_SECONDS = 20.0
PUBLISH_HASH_MISMATCH = "PUBLISH_HASH_MISMATCH"
DOCUMENT_TEMPLATE = "schemalaggning/document.html"


class PublishRefused(RuntimeError):
    """The roster recomputed from the material and the signed edits is not the one signed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def solver_seconds() -> float:
    """The solver's time limit: the setting ROSTER_SOLVER_SECONDS, else the environment
    variable of that name (the flow runner's), else 20 s."""
    value = getattr(settings, "ROSTER_SOLVER_SECONDS", None) or os.environ.get(
        "ROSTER_SOLVER_SECONDS"
    )
    try:
        seconds = float(value) if value else DEFAULT_SOLVER_SECONDS
    except ValueError:
        seconds = DEFAULT_SOLVER_SECONDS
    return min(max(seconds, 1.0), 600.0)


def case_started(*, case_id: int, flow_run_id: str) -> None:
    services.case_flow_started(case_id=case_id, flow_run_id=flow_run_id)
    services.robot_step_record(
        case_id=case_id,
        step="mark-started",
        inputs={"case": case_id},
        outputs={"status": "processing"},
        flow_run_id=flow_run_id,
    )


def _flags(proposal: dict) -> list[dict]:
    """Every breach and every uncovered need, as the material's flags (for the inbox and trail)."""
    flags = [
        {
            "code": f"breach.{b['rule']}",
            "severity": "warning",
            "origin": "robot",
            "text": f"{b['staff']}: {b['rule']} {b['start']}–{b['end']}: {b['detail']}",
        }
        for b in proposal["breaches"]
    ]
    flags += [
        {
            "code": "uncovered",
            "severity": "warning",
            "origin": "robot",
            "text": f"Ej bemannat: {u['need']} ({u['start']}–{u['end']}), {u['missing']} saknas",
        }
        for u in proposal["uncovered"]
    ]
    return flags


def summary_line(shifts: int, breaches: int, uncovered: int) -> str:
    line = f"{shifts} pass, {breaches} regelbrott"
    return line + (f", {uncovered} ej bemannade" if uncovered else "")


def material_prepare(*, case_id: int, version: int, flow_run_id: str) -> services.OpenedRequest:
    """Propose the roster with CP-SAT (bounded time), then compile the material for the manager.

    Idempotent: a re-run of the flow finds the compiled version and does not solve again.
    """
    case = Case.objects.get(pk=case_id)
    existing = case.materials.filter(version=version).first()
    if existing is not None:
        request = existing.requests.order_by("-pk").first()
        return services.OpenedRequest(request.pk, existing.pk, existing.sha256, existing.version)
    roster_input = case.payload["roster"]
    seconds = solver_seconds()
    proposal = propose(roster_input, time_limit=seconds)
    services.robot_step_record(
        case_id=case_id,
        step="propose",
        inputs={
            "staff": len(roster_input["staff"]),
            "needs": len(roster_input.get("needs", [])),
            "rules": proposal.get("rules"),
            "time_limit_s": seconds,
        },
        outputs={
            "shifts": len(proposal["shifts"]),
            "breaches": len(proposal["breaches"]),
            "uncovered": len(proposal["uncovered"]),
            "status": proposal["solver"]["status"],
            "objective": proposal["solver"]["objective"],
            "wall_time_s": proposal["solver"]["wall_time_s"],
            "shifts_sha256": shifts_sha256(proposal["shifts"]),
        },
        flow_run_id=flow_run_id,
    )
    roster = roster_of(proposal)
    verdict = {"breaches": proposal["breaches"], "uncovered": proposal["uncovered"]}
    opened = services.material_compile(
        case_id=case_id,
        version=version,
        context={
            "proposal": proposal,
            "grid": roster_grid(roster, verdict),
            "unit_name": case.unit.name,
        },
        proposal=proposal,
        flags=_flags(proposal),
        ruleset_version=str(proposal.get("rules") or "atl-2026"),
        summary=summary_line(
            len(proposal["shifts"]), len(proposal["breaches"]), len(proposal["uncovered"])
        ),
        compiled_by="robot:schemalaggning/propose",
    )
    from approvals.models import Material

    draft_for(Material.objects.get(pk=opened.material_id))
    return opened


def signed_roster(decision: Decision) -> tuple[dict, list[dict]]:
    """The roster the manager signed: the material's proposal with the signed edits.

    A decision signed with the generic form carries no edits: the proposal as compiled.
    With edits, the recomputed roster's hash must be the one signed, or nothing is published.
    """
    decided = decision.decided or {}
    edits = list(decided.get("edits") or [])
    roster = roster_final(decision.material.proposal, edits)
    signed = decided.get("shifts_sha256")
    if signed is not None and shifts_sha256(roster.get("shifts", [])) != signed:
        raise PublishRefused(
            PUBLISH_HASH_MISMATCH,
            f"Decision {decision.pk}: the recomputed roster is not the one signed.",
        )
    return roster, edits


def roster_publish(*, decision_id: int, flow_run_id: str) -> str:
    """Carry out a verified decision: one iCalendar per person and the roster PDF.

    A return for change publishes nothing (the case is returned). Idempotent: a re-run
    finds the calendars and the document already written. Returns the document's hash.
    """
    from .models import RosterCalendar

    decision = Decision.objects.select_related("request__case", "material").get(pk=decision_id)
    case = decision.request.case
    if decision.outcome == RETURNED:
        services.decision_execute(decision_id=decision_id, document_context={})
        return ""
    roster, edits = signed_roster(decision)
    stamp = decision.signed_at.astimezone(UTC)
    names = {s["id"]: s.get("name") or s["id"] for s in roster["staff"]}
    written = []
    with transaction.atomic():
        for staff_id, name in names.items():
            ics = roster_ics(
                staff_id,
                roster.get("shifts", []),
                calendar_name=f"Arbetsschema {case.unit.name} – {name}",
                dtstamp=stamp,
            )
            calendar, created = RosterCalendar.objects.get_or_create(
                decision=decision,
                staff_id=staff_id,
                defaults={
                    "case": case,
                    "ics": ics,
                    "sha256": sha256_hex(ics),
                    "events": sum(1 for s in roster["shifts"] if s["staff"] == staff_id),
                },
            )
            written.append({"staff": staff_id, "sha256": calendar.sha256, "new": created})
    from .rules import check

    verdict = check(roster)
    document = services.decision_execute(
        decision_id=decision_id,
        document_context={
            "grid": roster_grid(roster, verdict),
            "roster": roster,
            "edits": edits,
            "verdict": verdict,
            "unit_name": case.unit.name,
            "calendars": written,
        },
        document_template=DOCUMENT_TEMPLATE,
        document_kind=Document.Kind.ROSTER,
        title="Fastställt schema",
    )
    services.robot_step_record(
        case_id=case.pk,
        step="publish",
        inputs={"decision": decision_id, "edits": len(edits)},
        outputs={
            "calendars": len(written),
            "calendar_sha256": [w["sha256"] for w in written],
            "document_sha256": document.sha256 if document else "",
            "shifts_sha256": shifts_sha256(roster.get("shifts", [])),
        },
        flow_run_id=flow_run_id,
    )
    return document.sha256 if document else ""
