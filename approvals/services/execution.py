"""Carrying out: a verified human decision becomes its document and closes the case; a
service process's robot completes a case alone, recorded as the robot's act."""

from django.db import transaction
from django.utils import timezone

from .. import faults, integrity, rules
from ..audit import Kind, audit_append
from ..models import Case, Decision, Document
from ..registry import RETURNED, registry
from ..workdays import working_days_after
from .documents import document_create
from .errors import CASE_MODE_FORBIDS, GateRefused, ServiceError


def decision_execute(
    *,
    decision_id: int,
    document_context: dict,
    document_template: str | None = None,
    document_kind: str = Document.Kind.DECISION_LETTER,
    title: str = "Beslut",
) -> Document | None:
    """Carry out a verified decision: write its document and close the case. Idempotent."""
    decision = Decision.objects.select_related("request__case", "delegation", "material").get(
        pk=decision_id
    )
    # Execution only follows a verification of the stored decision.
    if decision.verified_at is None:
        raise GateRefused(
            rules.RESUME_NO_DECISION, "The decision has not been verified after resume."
        )
    # Checked again right before acting: the row is what was signed.
    if integrity.decision_problem(decision) is not None:
        raise GateRefused(rules.RESUME_RECORD_TAMPERED)
    case = decision.request.case
    spec = registry[case.process]
    existing = Document.objects.filter(decision=decision, kind=document_kind).first()
    if existing is not None:
        return existing
    if decision.outcome == RETURNED:
        return _completion_request(
            decision=decision, case=case, spec=spec, context=document_context
        )

    def carried_out(document: Document) -> None:
        now = timezone.now()
        Decision.objects.filter(pk=decision.pk).update(executed_at=now)
        Case.objects.filter(pk=case.pk).update(status=Case.Status.DECIDED, decided_at=now)
        audit_append(
            kind=Kind.DECISION_EXECUTED,
            actor_label="robot:execute",
            case=case,
            data={
                "decision": decision.pk,
                "outcome": decision.outcome,
                "amount": decision.authority_amount,
                "document": document.pk,
            },
        )

    document, _ = document_create(
        case=case,
        kind=document_kind,
        template=document_template or spec.templates.document,
        context={**document_context, "today": timezone.localdate(), "process": spec},
        title=title,
        decision=decision,
        actor_label="robot:execute",
        on_created=carried_out,
    )
    faults.kill_point(faults.LETTER)
    return document


def case_complete_by_robot(*, case_id: int, step: str, outcome: str, data: dict) -> Case:
    """A service process's robot settled the case alone; recorded as the robot's act.

    Refused for a process that needs a human decision (public authority, or `human`
    mode); the database refuses it too (migration 0008).
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        spec = registry[case.process]
        # A process that exercises public authority, or decides by a person, never
        # completes without a signed decision, whatever its robot says.
        if spec.needs_human or case.decision_mode == "human" or case.public_authority:
            raise ServiceError(
                CASE_MODE_FORBIDS, "This process needs a human decision; the robot only proposes."
            )
        if case.status == Case.Status.COMPLETED:
            return case
        case.status = Case.Status.COMPLETED
        case.decided_at = timezone.now()
        case.save(update_fields=["status", "decided_at"])
        audit_append(
            kind=Kind.CASE_COMPLETED_BY_ROBOT,
            actor=None,
            actor_label=f"robot:{spec.slug}/{step}",
            case=case,
            data={"outcome": outcome, **data},
        )
    return case


COMPLETION_REQUEST_TEMPLATE = "print/completion_request.html"


def _completion_request(*, decision: Decision, case: Case, spec, context: dict) -> Document:
    """A return for completion reaches the applicant: a *begäran om komplettering* saying
    what is missing (the signer's words), by when (working days), and what happens if
    nothing comes; the case waits for the supplement, never decided by the robot."""
    due = working_days_after(timezone.localdate(), spec.completion_working_days)

    def returned(document: Document) -> None:
        Case.objects.filter(pk=case.pk).update(status=Case.Status.RETURNED, completion_due=due)
        Decision.objects.filter(pk=decision.pk).update(executed_at=timezone.now())
        audit_append(
            kind=Kind.CASE_RETURNED,
            actor_label="robot:execute",
            case=case,
            data={
                "decision": decision.pk,
                "missing": decision.motivation,
                "completion_due": due.isoformat(),
                "document": document.pk,
            },
        )

    document, _ = document_create(
        case=case,
        kind=Document.Kind.COMPLETION_REQUEST,
        template=spec.templates.completion_request or COMPLETION_REQUEST_TEMPLATE,
        context={**context, "today": timezone.localdate(), "process": spec, "due": due},
        title="Begäran om komplettering",
        decision=decision,
        actor_label="robot:execute",
        on_created=returned,
    )
    return document
