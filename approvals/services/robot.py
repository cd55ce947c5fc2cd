"""What the robots' steps record: their start and failure, their steps, register answers,
and the material they compile for a person (which opens the request in the inbox).

Each function is idempotent where a re-run of the flow can call it again.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from municipality.models import unit_group_name

from .. import faults
from ..audit import Kind, audit_append
from ..hashing import canonical_sha256, sha256_hex
from ..models import ApprovalRequest, Case, Material, RegisterSnapshot
from ..notifications import notify_new_material
from ..printing import html_to_pdf, render_html
from ..registry import registry
from ..workdays import working_days_after


def case_flow_started(*, case_id: int, flow_run_id: str) -> None:
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if case.flow_run_id is None:
            case.flow_run_id = flow_run_id
        # A restarted robot takes the case up again where it failed.
        if case.status in (Case.Status.RECEIVED, Case.Status.FAILED):
            case.status = Case.Status.PROCESSING
        case.save(update_fields=["flow_run_id", "status"])


def case_flow_failed(*, case_id: int, flow_run_id: str, reason: str) -> None:
    """Mark a case whose robot stopped with an error, so that a human picks it up.

    Nothing is decided: an open request stays open, and a decided one stays decided.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if case.status in (Case.Status.RECEIVED, Case.Status.PROCESSING):
            case.status = Case.Status.FAILED
            case.save(update_fields=["status"])
        audit_append(
            kind=Kind.ROBOT_STEP,
            actor_label="robot:flow",
            case=case,
            data={"step": "flow-failed", "flow_run": flow_run_id, "reason": reason[:500]},
        )


def robot_step_record(
    *, case_id: int, step: str, inputs: dict, outputs: dict, flow_run_id: str
) -> None:
    """Record what a robot step did, in readable form, on the case's trail."""
    audit_append(
        kind=Kind.ROBOT_STEP,
        actor_label=f"robot:{step}",
        case=Case.objects.get(pk=case_id),
        data={"step": step, "flow_run": flow_run_id, "inputs": inputs, "outputs": outputs},
    )


def register_snapshot_for(*, case_id: int, version: int) -> RegisterSnapshot | None:
    """The register answers already stored for material version `version`, if any."""
    return RegisterSnapshot.objects.filter(case_id=case_id, version=version).first()


def register_snapshot_store(
    *, case_id: int, data: dict, missing_sources: list[str], version: int | None = None
) -> RegisterSnapshot:
    """Store what the registers answered for material version `version`.

    At most once per (case, version): a robot restarted within the version gets the
    stored snapshot back (the database refuses a second one), so the material it then
    compiles rests on the same answers. Without a version (older callers) every call
    stores a new snapshot.
    """
    digest = canonical_sha256({"data": data, "missing": missing_sources})
    if version is None:
        snapshot = RegisterSnapshot.objects.create(
            case_id=case_id, data=data, missing_sources=missing_sources, sha256=digest
        )
    else:
        try:
            with transaction.atomic():
                snapshot, _ = RegisterSnapshot.objects.get_or_create(
                    case_id=case_id,
                    version=version,
                    defaults={"data": data, "missing_sources": missing_sources, "sha256": digest},
                )
        except IntegrityError:  # another run of the same case stored it just now
            snapshot = RegisterSnapshot.objects.get(case_id=case_id, version=version)
    faults.kill_point(faults.REGISTER_SNAPSHOT)
    return snapshot


@dataclass(frozen=True)
class OpenedRequest:
    request_id: int
    material_id: int
    material_sha256: str
    version: int


def material_compile(
    *,
    case_id: int,
    version: int,
    context: dict,
    proposal: dict,
    flags: list[dict],
    ruleset_version: str,
    compiled_by: str,
    authority_amount: int | None = None,
    summary: str = "",
    template: str | None = None,
    decision_type: str | None = None,
    request_kind: str = ApprovalRequest.Kind.DECISION,
    prepared_by=None,
) -> OpenedRequest:
    """Render material version `version` (HTML and PDF), then open a request for a person.

    Idempotent per (case, version): a re-run of the flow gets the stored version back
    instead of compiling a new one. `prepared_by` names a person who prepared or
    changed the material; the gate will not let them also decide on it.
    """
    existing = Material.objects.filter(case_id=case_id, version=version).first()
    if existing is not None:
        return _material_reopened(existing, request_kind=request_kind)
    case = Case.objects.select_related("unit").get(pk=case_id)
    spec = registry[case.process]
    decision_type = decision_type or spec.default_decision_type.code
    html = render_html(
        template or spec.templates.material,
        {**context, "case": case, "version": version, "process": spec},
    )
    pdf = html_to_pdf(html)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        # Two runs of one case (a restarted robot beside one that was thought dead) both
        # rendered: the first to get here compiled the version, the other takes it.
        existing = Material.objects.filter(case_id=case_id, version=version).first()
        if existing is not None:
            return _material_reopened(existing, request_kind=request_kind)
        # Supersede an open request for an older version (e.g. after a supplement).
        ApprovalRequest.objects.filter(case=case, status=ApprovalRequest.Status.OPEN).update(
            status=ApprovalRequest.Status.SUPERSEDED
        )
        material = Material.objects.create(
            case=case,
            version=version,
            html=html,
            sha256=sha256_hex(html),
            pdf=pdf,
            pdf_sha256=sha256_hex(pdf),
            proposal=proposal,
            summary=summary[:300],
            flags=flags,
            ruleset_version=ruleset_version,
            authority_amount=authority_amount,
            compiled_by=compiled_by,
            prepared_by=prepared_by,
        )
        # Killed here, the transaction rolls back: no material without its request.
        faults.kill_point(faults.MATERIAL)
        audit_append(
            kind=Kind.MATERIAL_COMPILED,
            actor_label=compiled_by,
            case=case,
            material=material,
            data={
                "version": version,
                "sha256": material.sha256,
                "pdf_sha256": material.pdf_sha256,
                "ruleset": ruleset_version,
                "authority_amount": authority_amount,
                "flags": [f.get("text", "") for f in flags],
                "prepared_by": prepared_by.get_username() if prepared_by else None,
            },
        )
        request = ApprovalRequest.objects.create(
            case=case,
            material=material,
            unit=case.unit,
            kind=request_kind,
            decision_type=decision_type,
            authority_amount=authority_amount,
            flow_run_id=case.flow_run_id,
            due_date=working_days_after(timezone.localdate(), spec.due_working_days),
        )
        group, _ = Group.objects.get_or_create(name=unit_group_name(case.unit))
        assign_perm("approvals.view_approvalrequest", group, request)
        assign_perm("approvals.sign_approvalrequest", group, request)
        case.status = (
            Case.Status.AWAITING_DECISION
            if request_kind == ApprovalRequest.Kind.DECISION
            else Case.Status.AWAITING_PERSON
        )
        case.save(update_fields=["status"])
        audit_append(
            kind=Kind.REQUEST_OPENED if request_kind == "decision" else Kind.EXCEPTION_OPENED,
            actor_label=compiled_by,
            case=case,
            material=material,
            data={
                "request": request.pk,
                "kind": request_kind,
                "decision_type": request.decision_type,
                "due_date": request.due_date.isoformat(),
            },
        )
        if version > 1:
            # A supplement arrived after a return for completion: tell the caseworker.
            notify_new_material(request)
    faults.kill_point(faults.REQUEST)
    return OpenedRequest(request.pk, material.pk, material.sha256, material.version)


def _material_reopened(material: Material, *, request_kind: str) -> OpenedRequest:
    """A version compiled before (by an earlier run of the case): its request, unchanged.

    A robot restarted after it opened the request but before its run suspended finds
    the case where the first run left it; a case the watchdog had put back to
    "processing" (or the crash hook to "failed") waits for its person again.
    """
    request = material.requests.order_by("-pk").first()
    if request.status in (ApprovalRequest.Status.OPEN, ApprovalRequest.Status.AWAITING_SECOND):
        Case.objects.filter(
            pk=material.case_id,
            status__in=(Case.Status.RECEIVED, Case.Status.PROCESSING, Case.Status.FAILED),
        ).update(
            status=Case.Status.AWAITING_DECISION
            if request_kind == ApprovalRequest.Kind.DECISION
            else Case.Status.AWAITING_PERSON
        )
    return OpenedRequest(request.pk, material.pk, material.sha256, material.version)
