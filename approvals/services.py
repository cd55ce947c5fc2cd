"""Services: every rule about cases, material and decisions lives here.

Views, the API, flows and management commands call these functions and nothing
else writes these models.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from municipality.models import (
    Delegation,
    Process,
    SecondSignerRule,
    Staff,
    Substitution,
    unit_group_name,
)

from . import rules
from .adjustments import AdjustmentRefused, adjustments_apply
from .audit import Kind, audit_append
from .models import (
    ApprovalRequest,
    AuditEvent,
    Case,
    Cosignature,
    Decision,
    Letter,
    Material,
    PrefectCommand,
    RegisterSnapshot,
    Supplement,
)
from .prefect_gateway import command_enqueue
from .printing import html_to_pdf, render_html, sha256_hex

APPLICATION_DUPLICATE_DIFFERS = "APPLICATION_DUPLICATE_DIFFERS"
APPLICATION_UNKNOWN_PROCESS = "APPLICATION_UNKNOWN_PROCESS"
APPLICATION_NOT_INTEGRATION = "APPLICATION_NOT_INTEGRATION"
SUPPLEMENT_NOT_EXPECTED = "SUPPLEMENT_NOT_EXPECTED"
SUPPLEMENT_UNKNOWN = "SUPPLEMENT_UNKNOWN"


class ServiceError(Exception):
    """A refused action; `code` is a named constant tests assert on."""

    def __init__(self, code: str, message: str | None = None):
        self.code = code
        self.message = message or rules.MESSAGES.get(code, code)
        super().__init__(f"{code}: {self.message}")


class GateRefused(ServiceError):
    """The legal gate refused a decision or its execution."""


def actor_label_for(user) -> str:
    staff = getattr(user, "staff", None)
    kind = staff.kind if staff else "unknown"
    return f"{kind}:{user.get_username()}"


def canonical_sha256(data: dict) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


# --- intake -------------------------------------------------------------------------


def application_receive(*, raw_body: str, application: dict, received_by) -> tuple[Case, bool]:
    """Store an application verbatim and ask Prefect to start its flow.

    Returns (case, created). The same external_ref with the same content returns the
    existing case; with different content it is refused (nothing is overwritten).
    """
    staff = getattr(received_by, "staff", None)
    # Only integration accounts submit applications through the API.
    if staff is None or staff.kind != Staff.Kind.INTEGRATION or not received_by.is_active:
        raise ServiceError(
            APPLICATION_NOT_INTEGRATION, "Only integration accounts submit applications."
        )
    process = Process.objects.select_related("unit").filter(slug=application["process"]).first()
    if process is None:
        raise ServiceError(
            APPLICATION_UNKNOWN_PROCESS, f"Unknown process {application['process']!r}."
        )
    digest = canonical_sha256(application)
    existing = Case.objects.filter(
        process=process.slug, external_ref=application["external_ref"]
    ).first()
    if existing is not None:
        return _existing_or_conflict(existing, digest), False
    household = household_personnummer_of(application)
    try:
        with transaction.atomic():
            case = Case.objects.create(
                process=process.slug,
                external_ref=application["external_ref"],
                unit=process.unit,
                period=application["period"],
                raw_body=raw_body,
                application=application,
                application_sha256=digest,
                subject_personnummer=application["applicant"]["personnummer"],
                household_personnummer=household,
                received_by=received_by,
            )
            group, _ = Group.objects.get_or_create(name=unit_group_name(process.unit))
            assign_perm("approvals.view_case", group, case)
            audit_append(
                kind=Kind.APPLICATION_RECEIVED,
                actor=received_by,
                actor_label=actor_label_for(received_by),
                case=case,
                data={
                    "external_ref": case.external_ref,
                    "application_sha256": digest,
                    "bytes": len(raw_body.encode()),
                    "period": case.period,
                },
            )
            command_enqueue(kind=PrefectCommand.Kind.START, case=case, payload={"case_id": case.pk})
    except IntegrityError:
        # A concurrent request with the same external_ref won the race.
        existing = Case.objects.get(process=process.slug, external_ref=application["external_ref"])
        return _existing_or_conflict(existing, digest), False
    return case, True


def household_personnummer_of(application: dict) -> list[str]:
    """Everyone in the household as the application (with its supplements) declares it."""
    household = [application["applicant"]["personnummer"]]
    if application.get("co_applicant"):
        household.append(application["co_applicant"]["personnummer"])
    household += [c["personnummer"] for c in application.get("children", [])]
    household += [a["personnummer"] for a in application.get("other_adults", [])]
    return household


def _existing_or_conflict(existing: Case, digest: str) -> Case:
    if existing.application_sha256 != digest:
        raise ServiceError(
            APPLICATION_DUPLICATE_DIFFERS,
            "An application with this external_ref was already received with different content.",
        )
    return existing


# --- robot steps ---------------------------------------------------------------------


def case_flow_started(*, case_id: int, flow_run_id: str) -> None:
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if case.flow_run_id is None:
            case.flow_run_id = flow_run_id
        if case.status == Case.Status.RECEIVED:
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


def register_snapshot_store(
    *, case_id: int, control_month: str, data: dict, missing_sources: list[str]
) -> RegisterSnapshot:
    digest = canonical_sha256({"data": data, "missing": missing_sources})
    return RegisterSnapshot.objects.create(
        case_id=case_id,
        control_month=control_month,
        data=data,
        missing_sources=missing_sources,
        sha256=digest,
    )


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
    template: str,
    context: dict,
    calculation: dict,
    flags: list[dict],
    ruleset_version: str,
    proposed_amount: int,
    compiled_by: str,
) -> OpenedRequest:
    """Render material version `version` (HTML and PDF), then open an approval request.

    Idempotent per (case, version): a re-run of the flow gets the stored version
    back instead of compiling a new one.
    """
    existing = Material.objects.filter(case_id=case_id, version=version).first()
    if existing is not None:
        request = existing.requests.order_by("-pk").first()
        return OpenedRequest(request.pk, existing.pk, existing.sha256, existing.version)
    case = Case.objects.select_related("unit").get(pk=case_id)
    process = Process.objects.get(slug=case.process)
    html = render_html(template, {**context, "case": case, "version": version, "process": process})
    pdf = html_to_pdf(html)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
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
            calculation=calculation,
            flags=flags,
            ruleset_version=ruleset_version,
            proposed_amount=proposed_amount,
            compiled_by=compiled_by,
        )
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
                "proposed_amount": proposed_amount,
                "flags": [f.get("text", "") for f in flags],
            },
        )
        request = ApprovalRequest.objects.create(
            case=case,
            material=material,
            unit=case.unit,
            decision_type=process.decision_type,
            proposed_amount=proposed_amount,
            flow_run_id=case.flow_run_id,
            due_date=working_days_after(timezone.localdate(), process.due_working_days),
        )
        group, _ = Group.objects.get_or_create(name=unit_group_name(case.unit))
        assign_perm("approvals.view_approvalrequest", group, request)
        assign_perm("approvals.sign_approvalrequest", group, request)
        case.status = Case.Status.AWAITING_DECISION
        case.save(update_fields=["status"])
        audit_append(
            kind=Kind.REQUEST_OPENED,
            actor_label=compiled_by,
            case=case,
            material=material,
            data={
                "request": request.pk,
                "decision_type": request.decision_type,
                "due_date": request.due_date.isoformat(),
            },
        )
        if version > 1:
            # A supplement arrived after a return for completion: tell the caseworker.
            from .inbox import notify_new_material

            notify_new_material(request)
    return OpenedRequest(request.pk, material.pk, material.sha256, material.version)


def working_days_after(start: date, days: int) -> date:
    """The date `days` working days (Mon–Fri) after start."""
    from datetime import timedelta

    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


# --- reading ---------------------------------------------------------------------


def case_access_record(
    *, user, case: Case, what: str, material: Material | None = None, purpose: str = "casework"
) -> AuditEvent:
    """Log a read of case data: who, when, what, why, and whether they had an open assignment.

    `purpose` is "audit" for the auditor's pages, so that the access-log review can
    tell a granted audit read from a caseworker's read without an open assignment.
    """
    open_request = case.requests.filter(
        status__in=[ApprovalRequest.Status.OPEN, ApprovalRequest.Status.AWAITING_SECOND]
    ).first()
    had_assignment = bool(
        open_request
        and (
            open_request.assigned_to_id in (None, user.pk)
            # A request waiting for a second signature is open to every delegate.
            or open_request.status == ApprovalRequest.Status.AWAITING_SECOND
        )
        and holds_object_perm(user=user, codename="view_approvalrequest", obj=open_request)
    )
    kind = {
        "material": Kind.MATERIAL_VIEWED,
        "material_pdf": Kind.MATERIAL_VIEWED,
        "letter_pdf": Kind.LETTER_VIEWED,
        "audit_material_html": Kind.MATERIAL_VIEWED,
        "audit_material_pdf": Kind.MATERIAL_VIEWED,
        "audit_letter_pdf": Kind.LETTER_VIEWED,
    }.get(what, Kind.CASE_VIEWED)
    return audit_append(
        kind=kind,
        actor=user,
        actor_label=actor_label_for(user),
        case=case,
        material=material,
        data={"what": what, "open_assignment": had_assignment, "purpose": purpose},
    )


def audit_page_record(*, user, page: str, filters: dict) -> AuditEvent:
    """Log an auditor's page that shows no single case (search, statistics, access log)."""
    return audit_append(
        kind=Kind.AUDIT_VIEWED,
        actor=user,
        actor_label=actor_label_for(user),
        data={
            "page": page,
            "filters": {
                k: str(v) for k, v in sorted(filters.items()) if v not in (None, "", False)
            },
            "purpose": "audit",
        },
    )


# --- the gate --------------------------------------------------------------------


def holds_object_perm(*, user, codename: str, obj) -> bool:
    """Whether the user holds an object permission through a grant, never through a flag.

    Django's and guardian's has_perm answer True for every active superuser; the
    gate and the case pages must not, so they ask the grant tables directly.
    """
    if not user.is_active:
        return False
    model = type(obj)
    from .models import (
        ApprovalRequestGroupObjectPermission,
        ApprovalRequestUserObjectPermission,
        CaseGroupObjectPermission,
        CaseUserObjectPermission,
    )

    user_model, group_model = {
        ApprovalRequest: (
            ApprovalRequestUserObjectPermission,
            ApprovalRequestGroupObjectPermission,
        ),
        Case: (CaseUserObjectPermission, CaseGroupObjectPermission),
    }[model]
    return (
        user_model.objects.filter(
            content_object=obj, permission__codename=codename, user=user
        ).exists()
        or group_model.objects.filter(
            content_object=obj, permission__codename=codename, group__user=user
        ).exists()
    )


def _signer_of(user) -> rules.Signer:
    staff = Staff.objects.filter(user=user).first()
    return rules.Signer(
        user_id=user.pk,
        is_active=user.is_active,
        is_human=bool(staff and staff.kind == Staff.Kind.HUMAN),
        role=staff.role if staff else "",
        personnummer=staff.personnummer if staff else "",
    )


def _delegation_line(d: Delegation) -> rules.DelegationLine:
    return rules.DelegationLine(d.pk, d.user_id, d.role, d.max_amount, d.valid_from, d.valid_to)


def _delegation_lines(*, unit_id: int, decision_type: str) -> list[rules.DelegationLine]:
    # Lines deleted from the order are kept for the record but back nothing.
    return [
        _delegation_line(d)
        for d in Delegation.objects.filter(
            unit_id=unit_id, decision_type=decision_type, deleted_at__isnull=True
        )
    ]


def _substitution_line(s: Substitution) -> rules.SubstitutionLine:
    absent_role = Staff.objects.filter(user_id=s.absent_id).values_list("role", flat=True).first()
    return rules.SubstitutionLine(
        id=s.pk,
        absent_user_id=s.absent_id,
        absent_role=absent_role or "",
        substitute_user_id=s.substitute_id,
        decision_type=s.decision_type,
        valid_from=s.valid_from,
        valid_to=s.valid_to,
    )


def _substitution_lines(*, unit_id: int, substitute) -> list[rules.SubstitutionLine]:
    return [
        _substitution_line(s)
        for s in Substitution.objects.filter(
            unit_id=unit_id, substitute=substitute, deleted_at__isnull=True
        )
    ]


def _second_signer_lines(*, unit_id: int, decision_type: str) -> list[rules.SecondSignerLine]:
    return [
        rules.SecondSignerLine(r.pk, r.above_amount, r.valid_from, r.valid_to)
        for r in SecondSignerRule.objects.filter(
            unit_id=unit_id, decision_type=decision_type, deleted_at__isnull=True
        )
    ]


def _signing_authority(*, signer, user, request, amount: int | None, on: date):
    return rules.signing_authority(
        signer=signer,
        lines=_delegation_lines(unit_id=request.unit_id, decision_type=request.decision_type),
        substitutions=_substitution_lines(unit_id=request.unit_id, substitute=user),
        decision_type=request.decision_type,
        amount=amount or 0,
        on=on,
    )


def _signer_has_access(*, user, request: ApprovalRequest) -> bool:
    # Object permission, not a global flag: a superuser without it is refused too.
    return Staff.objects.filter(user=user, unit_id=request.unit_id).exists() and holds_object_perm(
        user=user, codename="sign_approvalrequest", obj=request
    )


def _first_material_view(*, user, material: Material):
    return (
        AuditEvent.objects.filter(kind=Kind.MATERIAL_VIEWED, actor=user, material=material)
        .order_by("seq")
        .values_list("created_at", flat=True)
        .first()
    )


def _adjusted_calculation(
    *, case: Case, material: Material, adjustments: list[dict] | None
) -> tuple[dict | None, str | None]:
    """The material's calculation with the signer's line changes, or the error refusing them.

    (None, None) when no lines are changed. The arithmetic is the process's own
    (approvals.adjustments); whether the changes fit the outcome is the gate's.
    """
    if not adjustments:
        return None, None
    try:
        adjusted = adjustments_apply(
            process=case.process, calculation=material.calculation, adjustments=adjustments
        )
    except AdjustmentRefused:
        return None, rules.DECISION_ADJUSTMENT_INVALID
    return adjusted, None


def _signature_evidence(signature: Decision | Cosignature) -> dict:
    """What the trail records about any signature: the material seen, when it was opened,
    time from opening to signing, and the authority signed under."""
    return {
        "material_sha256": signature.material_sha256,
        "material_opened_at": signature.material_opened_at.isoformat(),
        "seconds_from_open_to_sign": int(
            (signature.signed_at - signature.material_opened_at).total_seconds()
        ),
        "delegation": signature.delegation_id,
        "on_behalf_of": signature.on_behalf_of_id,
        "substitution": signature.substitution_id,
    }


def decision_sign(
    *,
    request_id: int,
    user,
    outcome: str,
    motivation: str,
    shown_material_sha256: str,
    amount: int | None = None,
    adjustments: list[dict] | None = None,
) -> Decision:
    """Record a human decision on an open request; the only way a decision comes to exist.

    Checks every rule of the gate in one transaction with the request locked, then
    queues the resume of the flow run (ids only) for after commit. When a second
    signer rule applies, the request waits for a second signature instead, and the
    same call by another delegate records it (see _decision_cosign); only then is
    the resume queued.

    `adjustments` changes single lines of the proposal, each
    ``{"code", "decided", "reason"}``. The amount then follows from the changed lines
    (leave `amount` out, or give exactly that figure), and the outcome follows from
    their direction (rules.adjustments_fit_outcome): "partly_approved" when any change
    goes against the applicant, "approved" when all are in the applicant's favour.
    """
    signer = _signer_of(user)
    today = timezone.localdate()
    with transaction.atomic():
        request = (
            ApprovalRequest.objects.select_for_update()
            .select_related("material", "case")
            .get(pk=request_id)
        )
        case = request.case
        adjusted, adjustment_error = _adjusted_calculation(
            case=case, material=request.material, adjustments=adjustments
        )
        changes = adjusted["adjustments"] if adjusted is not None else []
        if adjusted is not None and amount is None and outcome in ("approved", "partly_approved"):
            amount = adjusted["proposed_amount"]
        if outcome == "approved" and amount is None:
            amount = request.proposed_amount
        if outcome in ("refused", "returned"):
            amount = None if outcome == "returned" else 0
        error = rules.signer_is_eligible(signer)
        if error is None and not _signer_has_access(user=user, request=request):
            error = rules.DECISION_SIGNER_NO_ACCESS
        if error is None and request.status == ApprovalRequest.Status.AWAITING_SECOND:
            return _decision_cosign(
                request=request,
                user=user,
                signer=signer,
                outcome=outcome,
                amount=amount,
                adjustments=changes,
                adjustment_error=adjustment_error,
                shown_material_sha256=shown_material_sha256,
                on=today,
            )
        if error is None and request.status != ApprovalRequest.Status.OPEN:
            error = rules.DECISION_REQUEST_NOT_OPEN
        if error is None and request.assigned_to_id not in (None, user.pk):
            error = rules.DECISION_SIGNER_NOT_ASSIGNEE
        latest = case.materials.order_by("-version").values_list("sha256", flat=True).first()
        if error is None:
            error = rules.material_is_current(
                shown_sha256=shown_material_sha256,
                request_sha256=request.material.sha256,
                latest_sha256=latest,
            )
        opened_at = _first_material_view(user=user, material=request.material)
        if error is None and opened_at is None:
            error = rules.DECISION_MATERIAL_NOT_OPENED
        if error is None:
            error = adjustment_error
        if error is None:
            error = rules.outcome_is_complete(outcome=outcome, motivation=motivation, amount=amount)
        if error is None and adjusted is not None:
            error = rules.adjustments_fit_outcome(
                outcome=outcome, favours_applicant=[c["favours_applicant"] for c in changes]
            ) or rules.adjusted_amount_matches(
                amount=amount, adjusted_amount=adjusted["proposed_amount"]
            )
        if error is None:
            error = rules.no_conflict_of_interest(
                signer=signer, household=case.household_personnummer
            )
        if error is None:
            prepared = {request.material.prepared_by_id} - {None}
            error = rules.separation_of_duties(signer=signer, prepared_by_ids=prepared)
        authority = None
        if error is None:
            # Returning for completion decides no amount, but only a delegate for this
            # decision type may do it: any of the signer's lines covers it (amount 0).
            authority = _signing_authority(
                signer=signer,
                user=user,
                request=request,
                amount=0 if outcome == "returned" else amount,
                on=today,
            )
            if authority is None:
                error = rules.DECISION_SIGNER_NOT_DELEGATED
        if error is not None:
            raise GateRefused(error)

        cosignature_required = rules.second_signature_required(
            rules=_second_signer_lines(
                unit_id=request.unit_id, decision_type=request.decision_type
            ),
            outcome=outcome,
            amount=amount,
            on=today,
        )
        staff = user.staff
        now = timezone.now()
        substitution = authority.substitution if authority else None
        decision = Decision.objects.create(
            request=request,
            outcome=outcome,
            amount=amount,
            motivation=motivation.strip(),
            signer=user,
            signer_name=user.get_full_name() or user.get_username(),
            signer_title=staff.title or staff.get_role_display(),
            on_behalf_of_id=authority.on_behalf_of_user_id if authority else None,
            substitution_id=substitution.id if substitution else None,
            delegation_id=authority.line.id if authority else None,
            signed_at=now,
            material=request.material,
            material_sha256=request.material.sha256,
            material_opened_at=opened_at,
            followed_proposal=(
                outcome == "approved" and amount == request.proposed_amount and not changes
            ),
            adjustments=changes,
            cosignature_required=cosignature_required,
        )
        request.status = (
            ApprovalRequest.Status.AWAITING_SECOND
            if cosignature_required
            else ApprovalRequest.Status.DECIDED
        )
        request.save(update_fields=["status"])
        audit_append(
            kind=Kind.DECISION_SIGNED,
            actor=user,
            actor_label=actor_label_for(user),
            case=case,
            material=request.material,
            data={
                "request": request.pk,
                "decision": decision.pk,
                "outcome": outcome,
                "amount": amount,
                "proposed_amount": request.proposed_amount,
                "followed_proposal": decision.followed_proposal,
                "adjustments": changes,
                "motivation": decision.motivation,
                **_signature_evidence(decision),
                "cosignature_required": cosignature_required,
            },
        )
        # With a second signer rule the flow waits: nothing may resume it yet.
        if cosignature_required:
            from .inbox import notify_second_signature_needed

            notify_second_signature_needed(request, first_signer=user)
        else:
            command_enqueue(
                kind=PrefectCommand.Kind.RESUME,
                case=case,
                payload={"run_input": decision_run_input(decision)},
            )
    return decision


def _decision_cosign(
    *,
    request: ApprovalRequest,
    user,
    signer: rules.Signer,
    outcome: str,
    amount: int | None,
    adjustments: list[dict],
    adjustment_error: str | None,
    shown_material_sha256: str,
    on: date,
) -> Decision:
    """Second signature on a decision waiting for one; called by decision_sign only.

    Runs inside decision_sign's transaction with the request locked, after the
    signer's eligibility and access were checked.
    """
    case = request.case
    decision = Decision.objects.select_for_update().get(request=request)
    first = {decision.signer_id, decision.on_behalf_of_id} - {None}
    error = rules.cosigner_is_distinct(first_signer_ids=first, cosigner_ids={user.pk})
    latest = case.materials.order_by("-version").values_list("sha256", flat=True).first()
    if error is None:
        # The second signer must see exactly what the first one signed, still current.
        error = rules.material_is_current(
            shown_sha256=shown_material_sha256,
            request_sha256=decision.material_sha256,
            latest_sha256=latest,
        )
    if error is None and decision.material_sha256 != request.material.sha256:
        error = rules.DECISION_MATERIAL_STALE
    opened_at = _first_material_view(user=user, material=request.material)
    if error is None and opened_at is None:
        error = rules.DECISION_MATERIAL_NOT_OPENED
    if error is None:
        error = adjustment_error
    if error is None:
        error = rules.cosignature_matches(
            outcome=outcome,
            amount=amount,
            first_outcome=decision.outcome,
            first_amount=decision.amount,
            adjustments=adjustments,
            first_adjustments=decision.adjustments,
        )
    if error is None:
        error = rules.no_conflict_of_interest(signer=signer, household=case.household_personnummer)
    if error is None:
        prepared = {request.material.prepared_by_id} - {None}
        error = rules.separation_of_duties(signer=signer, prepared_by_ids=prepared)
    authority = None
    if error is None:
        authority = _signing_authority(
            signer=signer, user=user, request=request, amount=decision.amount, on=on
        )
        if authority is None:
            error = rules.DECISION_SIGNER_NOT_DELEGATED
    if error is None and authority.on_behalf_of_user_id is not None:
        # Acting for the first signer (or for whom they acted) is not a second delegate.
        error = rules.cosigner_is_distinct(
            first_signer_ids=first, cosigner_ids={authority.on_behalf_of_user_id}
        )
    if error is not None:
        raise GateRefused(error)

    staff = user.staff
    now = timezone.now()
    cosignature = Cosignature.objects.create(
        decision=decision,
        signer=user,
        signer_name=user.get_full_name() or user.get_username(),
        signer_title=staff.title or staff.get_role_display(),
        on_behalf_of_id=authority.on_behalf_of_user_id,
        substitution_id=authority.substitution.id if authority.substitution else None,
        delegation_id=authority.line.id,
        signed_at=now,
        material_sha256=decision.material_sha256,
        material_opened_at=opened_at,
    )
    request.status = ApprovalRequest.Status.DECIDED
    request.save(update_fields=["status"])
    audit_append(
        kind=Kind.DECISION_COSIGNED,
        actor=user,
        actor_label=actor_label_for(user),
        case=case,
        material=request.material,
        data={
            "request": request.pk,
            "decision": decision.pk,
            "cosignature": cosignature.pk,
            "outcome": decision.outcome,
            "amount": decision.amount,
            **_signature_evidence(cosignature),
        },
    )
    command_enqueue(
        kind=PrefectCommand.Kind.RESUME,
        case=case,
        payload={"run_input": decision_run_input(decision)},
    )
    return decision


def decision_run_input(decision: Decision) -> dict:
    """The resume input: ids and the material hash, nothing personal."""
    return {
        "request_id": decision.request_id,
        "decision_id": decision.pk,
        "material_sha256": decision.material_sha256,
    }


def decision_sign_refusal_record(*, request_id: int, user, code: str) -> None:
    """Log a refused attempt to sign (kept apart from the refused transaction)."""
    request = ApprovalRequest.objects.select_related("case").get(pk=request_id)
    audit_append(
        kind=Kind.DECISION_REFUSED,
        actor=user,
        actor_label=actor_label_for(user),
        case=request.case,
        data={"request": request_id, "code": code},
    )


@dataclass(frozen=True)
class VerifiedDecision:
    decision_id: int
    request_id: int
    outcome: str


def _authority_still_covers(
    *,
    request: ApprovalRequest,
    signer_user,
    delegation: Delegation | None,
    substitution: Substitution | None,
    on_behalf_of_id: int | None,
    amount: int | None,
    signed_at,
) -> str | None:
    """Whether the delegation line (and substitution) a signature was made under still back it."""
    # A line since deleted from the order, or one for another unit or decision type,
    # backs nothing.
    if (
        delegation is None
        or delegation.deleted_at is not None
        or delegation.unit_id != request.unit_id
        or delegation.decision_type != request.decision_type
    ):
        return rules.DECISION_SIGNER_NOT_DELEGATED
    sub = None
    if substitution is not None or on_behalf_of_id is not None:
        # Acting for someone needs a substitution that still stands, for that person.
        if (
            substitution is None
            or substitution.deleted_at is not None
            or substitution.unit_id != request.unit_id
            or substitution.absent_id != on_behalf_of_id
        ):
            return rules.DECISION_SIGNER_NOT_DELEGATED
        sub = _substitution_line(substitution)
    holder_id = on_behalf_of_id or signer_user.pk
    holder_role = Staff.objects.filter(user_id=holder_id).values_list("role", flat=True).first()
    return rules.authority_still_covers(
        authority=rules.Authority(_delegation_line(delegation), sub),
        signer=_signer_of(signer_user),
        holder_role=holder_role or "",
        decision_type=request.decision_type,
        amount=amount or 0,
        on=timezone.localdate(signed_at),
    )


def _human_signer_error(user) -> str | None:
    # The signer must have been an eligible human; inactive-after-signing is fine.
    signer = _signer_of(user)
    return rules.signer_is_eligible(rules.Signer(**{**signer.__dict__, "is_active": True}))


def _adjustments_recheck(*, request: ApprovalRequest, decision: Decision) -> str | None:
    """A decision's changed lines, applied again to its material, give its outcome and amount."""
    if not decision.adjustments:
        return None
    adjusted, error = _adjusted_calculation(
        case=request.case, material=request.material, adjustments=decision.adjustments
    )
    if error is None and adjusted["adjustments"] != decision.adjustments:
        error = rules.DECISION_ADJUSTMENT_INVALID
    if error is None:
        error = rules.adjustments_fit_outcome(
            outcome=decision.outcome,
            favours_applicant=[c["favours_applicant"] for c in decision.adjustments],
        ) or rules.adjusted_amount_matches(
            amount=decision.amount, adjusted_amount=adjusted["proposed_amount"]
        )
    return error


def _decision_recheck(*, request: ApprovalRequest, decision: Decision) -> str | None:
    """The gate's rules re-read from the database for a stored decision."""
    if decision.material_sha256 != request.material.sha256:
        return rules.DECISION_MATERIAL_STALE
    error = _adjustments_recheck(request=request, decision=decision)
    if error is None:
        error = _human_signer_error(decision.signer)
    if error is None:
        error = _authority_still_covers(
            request=request,
            signer_user=decision.signer,
            delegation=decision.delegation,
            substitution=decision.substitution,
            on_behalf_of_id=decision.on_behalf_of_id,
            amount=decision.amount or 0,
            signed_at=decision.signed_at,
        )
    if error is not None or not decision.cosignature_required:
        if error is None and request.status != ApprovalRequest.Status.DECIDED:
            error = rules.RESUME_NO_DECISION
        return error
    cosignature = (
        Cosignature.objects.select_related("signer", "delegation", "substitution")
        .filter(decision=decision)
        .first()
    )
    if cosignature is None or request.status != ApprovalRequest.Status.DECIDED:
        return rules.RESUME_COSIGNATURE_MISSING
    error = rules.cosigner_is_distinct(
        first_signer_ids={decision.signer_id, decision.on_behalf_of_id} - {None},
        cosigner_ids={cosignature.signer_id, cosignature.on_behalf_of_id} - {None},
    )
    if error is None and cosignature.material_sha256 != decision.material_sha256:
        error = rules.DECISION_MATERIAL_STALE
    if error is None:
        error = _human_signer_error(cosignature.signer)
    if error is None:
        error = _authority_still_covers(
            request=request,
            signer_user=cosignature.signer,
            delegation=cosignature.delegation,
            substitution=cosignature.substitution,
            on_behalf_of_id=cosignature.on_behalf_of_id,
            amount=decision.amount,
            signed_at=cosignature.signed_at,
        )
    return error


def decision_verify_for_execution(
    *,
    request_id: int,
    claimed_request_id: int,
    decision_id: int,
    material_sha256: str,
    flow_run_id: str,
    attempt_key: str,
) -> VerifiedDecision:
    """Re-check, after the flow resumed, that the claimed decision is real and lawful.

    The resume input is only a claim: anyone with access to Prefect's API can send
    one. The decision row in the database is the authority: its signer, the
    delegation line and substitution it was signed under (as they read now), and
    the second signature where one was required.
    """
    request = (
        ApprovalRequest.objects.select_related("case", "material").filter(pk=request_id).first()
    )
    if request is None:
        # No such request: there is no case to log on and nothing to execute.
        raise GateRefused(rules.RESUME_NO_DECISION)
    decision = (
        Decision.objects.select_related("signer", "signer__staff", "delegation", "substitution")
        .filter(request=request)
        .first()
    )
    error = None
    if decision is None:
        error = rules.RESUME_NO_DECISION
    elif (
        claimed_request_id != request_id
        or decision.pk != decision_id
        or material_sha256 != decision.material_sha256
    ):
        error = rules.RESUME_INPUT_MISMATCH
    else:
        error = _decision_recheck(request=request, decision=decision)
    if error is not None:
        if not AuditEvent.objects.filter(
            case=request.case, kind=Kind.RESUME_REJECTED, data__attempt_key=attempt_key
        ).exists():
            audit_append(
                kind=Kind.RESUME_REJECTED,
                actor_label="robot:gate",
                case=request.case,
                data={
                    "code": error,
                    "claimed_decision": decision_id,
                    "request": request_id,
                    "flow_run": flow_run_id,
                    "attempt_key": attempt_key,
                },
            )
        raise GateRefused(error)
    if decision.verified_at is None:
        with transaction.atomic():
            Decision.objects.filter(pk=decision.pk, verified_at__isnull=True).update(
                verified_at=timezone.now()
            )
            audit_append(
                kind=Kind.RESUME_VERIFIED,
                actor_label="robot:gate",
                case=request.case,
                data={"decision": decision.pk, "request": request_id, "flow_run": flow_run_id},
            )
    return VerifiedDecision(decision.pk, request_id, decision.outcome)


def decision_execute(
    *, decision_id: int, letter_template: str, letter_context: dict
) -> Letter | None:
    """Carry out a verified decision: write the letter and close the case. Idempotent."""
    decision = Decision.objects.select_related("request__case", "delegation", "material").get(
        pk=decision_id
    )
    # Execution only follows a verification of the stored decision.
    if decision.verified_at is None:
        raise GateRefused(
            rules.RESUME_NO_DECISION, "The decision has not been verified after resume."
        )
    case = decision.request.case
    existing = Letter.objects.filter(decision=decision).first()
    if existing is not None:
        return existing
    if decision.outcome == Decision.Outcome.RETURNED:
        with transaction.atomic():
            Case.objects.filter(pk=case.pk).update(status=Case.Status.RETURNED)
            Decision.objects.filter(pk=decision.pk).update(executed_at=timezone.now())
            audit_append(
                kind=Kind.CASE_RETURNED,
                actor_label="robot:execute",
                case=case,
                data={"decision": decision.pk, "missing": decision.motivation},
            )
        return None
    html = render_html(
        letter_template,
        {**letter_context, "decision": decision, "case": case, "today": timezone.localdate()},
    )
    pdf = html_to_pdf(html)
    with transaction.atomic():
        letter, created = Letter.objects.get_or_create(
            decision=decision, defaults={"case": case, "pdf": pdf, "sha256": sha256_hex(pdf)}
        )
        if created:
            now = timezone.now()
            Decision.objects.filter(pk=decision.pk).update(executed_at=now)
            Case.objects.filter(pk=case.pk).update(status=Case.Status.DECIDED, decided_at=now)
            audit_append(
                kind=Kind.LETTER_CREATED,
                actor_label="robot:execute",
                case=case,
                data={"decision": decision.pk, "letter": letter.pk, "sha256": letter.sha256},
            )
            audit_append(
                kind=Kind.DECISION_EXECUTED,
                actor_label="robot:execute",
                case=case,
                data={
                    "decision": decision.pk,
                    "outcome": decision.outcome,
                    "amount": decision.amount,
                },
            )
    return letter


# --- completion (komplettering) --------------------------------------------------------

SUPPLEMENT_KEYS = (
    "costs",
    "incomes",
    "children",
    "co_applicant",
    "other_adults",
    "months_on_assistance",
    "message",
)


def application_current(*, case: Case) -> dict:
    """The application as received, with every consumed supplement applied in order.

    A supplement replaces the top-level parts it names; within costs and incomes it
    replaces the items it names. The original stays untouched in case.application.
    """
    current = json.loads(json.dumps(case.application))
    for supplement in case.supplements.filter(consumed_at__isnull=False).order_by(
        "received_at", "pk"
    ):
        for key, value in supplement.data.items():
            if key in ("costs", "incomes") and isinstance(value, dict):
                current.setdefault(key, {}).update(value)
            else:
                current[key] = value
    return current


def supplement_receive(*, case_id: int, raw_body: str, data: dict, received_by) -> Supplement:
    """Store the applicant's supplement and resume the waiting flow run (ids only)."""
    staff = getattr(received_by, "staff", None)
    if staff is None or staff.kind != Staff.Kind.INTEGRATION or not received_by.is_active:
        raise ServiceError(
            APPLICATION_NOT_INTEGRATION, "Only integration accounts send supplements."
        )
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        # Only a case returned for completion is waiting for a supplement.
        if (
            case.status != Case.Status.RETURNED
            or case.supplements.filter(consumed_at__isnull=True).exists()
        ):
            raise ServiceError(
                SUPPLEMENT_NOT_EXPECTED, "This case is not waiting for a supplement."
            )
        supplement = Supplement.objects.create(
            case=case,
            raw_body=raw_body,
            data=data,
            sha256=canonical_sha256(data),
            received_by=received_by,
        )
        audit_append(
            kind=Kind.SUPPLEMENT_RECEIVED,
            actor=received_by,
            actor_label=actor_label_for(received_by),
            case=case,
            data={"supplement": supplement.pk, "sha256": supplement.sha256, "parts": sorted(data)},
        )
        command_enqueue(
            kind=PrefectCommand.Kind.RESUME,
            case=case,
            payload={"run_input": {"case_id": case.pk, "supplement_id": supplement.pk}},
        )
    return supplement


def supplement_verify(*, case_id: int, supplement_id: int) -> int:
    """Check a resume claim about a supplement against the database and mark it used."""
    supplement = Supplement.objects.filter(pk=supplement_id, case_id=case_id).first()
    if supplement is None:
        raise ServiceError(SUPPLEMENT_UNKNOWN, "No such supplement for this case.")
    with transaction.atomic():
        if Supplement.objects.filter(pk=supplement.pk, consumed_at__isnull=True).update(
            consumed_at=timezone.now()
        ):
            # A supplement may change the household: registers, conflict-of-interest
            # checks and the next material follow the household as now declared.
            case = supplement.case
            household = household_personnummer_of(application_current(case=case))
            Case.objects.filter(pk=case_id).update(
                status=Case.Status.PROCESSING, household_personnummer=household
            )
            audit_append(
                kind=Kind.ROBOT_STEP,
                actor_label="robot:gate",
                case=case,
                data={
                    "step": "supplement-accepted",
                    "supplement": supplement.pk,
                    "household_size": len(household),
                },
            )
    return supplement.pk
