"""The gate: the only way a decision comes to exist (first and second signatures).

Every rule of approvals.rules is checked in one transaction with the request
locked; the resume of the flow run (ids only) is queued for after commit. The
database backs the shape (constraints and triggers in approvals' migrations).
"""

from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from municipality.models import Delegation, SecondSignerRule, Staff, Substitution

from .. import rules
from ..access import may_sign, signer_password_problem
from ..adjustments import AdjustmentRefused, adjustments_apply
from ..audit import Kind, actor_label_for, audit_append
from ..integrity import decision_content_sha256
from ..locks import request_lock
from ..models import (
    ApprovalRequest,
    AuditEvent,
    Case,
    Cosignature,
    Decision,
    Material,
    PrefectCommand,
)
from ..notifications import notify_second_signature_needed
from ..prefect_gateway import command_enqueue
from ..registry import APPROVED, RETURNED, registry
from .errors import GateRefused


def party_personnummer(case: Case) -> list[str]:
    """Everyone the case is about, canonical, for the conflict-of-interest rule."""
    return [p.personnummer for p in case.parties.all()]


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


def _first_material_view(*, user, material: Material):
    return (
        AuditEvent.objects.filter(kind=Kind.MATERIAL_VIEWED, actor=user, material=material)
        .order_by("seq")
        .values_list("created_at", flat=True)
        .first()
    )


def _adjusted_proposal(
    *, case: Case, material: Material, adjustments: list[dict] | None
) -> tuple[dict | None, str | None]:
    """The material's proposal with the signer's line changes, or the error refusing them.

    (None, None) when no lines are changed. The arithmetic is the process's own
    (approvals.adjustments); whether the changes fit the outcome is the gate's.
    """
    if not adjustments:
        return None, None
    try:
        adjusted = adjustments_apply(
            process=case.process, proposal=material.proposal, adjustments=adjustments
        )
    except AdjustmentRefused:
        return None, rules.DECISION_ADJUSTMENT_INVALID
    return adjusted, None


def _decided(*, decision_type, amount: int | None, decided: dict | None) -> dict:
    """What was decided, in the process's terms: the sum granted where the type has one."""
    data = dict(decided or {})
    if decision_type is not None and decision_type.has_amount and amount is not None:
        data["amount"] = amount
    return data


def _follows_proposal(*, request: ApprovalRequest, outcome: str, amount, changes) -> bool:
    """Whether the signer decided what the robot proposed: its outcome, and its sum if any.

    The proposed outcome is the process's (hook proposed_outcome; an approval by default):
    refusing a 0 kr bistånd proposal follows it.
    """
    spec = registry.get(request.case.process)
    hook = spec.hook("proposed_outcome") if spec else None
    proposed = hook(proposal=request.material.proposal) if hook else APPROVED
    if changes or outcome != proposed:
        return False
    return outcome != APPROVED or amount == request.authority_amount


def decision_type_of(request: ApprovalRequest):
    """The declared decision type of a request (None if the process no longer declares it)."""
    spec = registry.get(request.case.process)
    return spec.decision_type(request.decision_type) if spec else None


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


def _authentication_error(authentication: rules.Authentication | None) -> str | None:
    """The refusal when the signer's last authentication is missing or too old."""
    return rules.authentication_is_fresh(
        authentication, now=timezone.now(), window_seconds=settings.SIGNING_FRESH_AUTH_SECONDS
    )


def _authentication_evidence(authentication: rules.Authentication, *, signed_at) -> dict:
    """How the signer proved who they are, for the trail: method, when, how long before."""
    return {
        "method": authentication.method,
        "at": authentication.at.isoformat(),
        "seconds_before_signing": int((signed_at - authentication.at).total_seconds()),
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
    decided: dict | None = None,
    acknowledged_flags: list[str] | None = None,
    authentication: rules.Authentication | None = None,
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

    `authentication` is when and how the signer last proved who they are (the view
    passes the session's record, municipality.authentication): older than
    SIGNING_FRESH_AUTH_SECONDS, or missing, and the signature is refused; it is recorded
    with the signature on the trail.
    """
    signer = _signer_of(user)
    today = timezone.localdate()
    with transaction.atomic():
        request = request_lock(request_id, "material", "case")
        case = request.case
        decision_type = decision_type_of(request)
        chosen = decision_type.outcome(outcome) if decision_type else None
        if (
            chosen is not None
            and chosen.typed_amount
            and chosen.against_party
            and not adjustments
            and amount is not None
            and request.authority_amount is not None
            and amount >= request.authority_amount
        ):
            # Granting at least what was proposed is no partial refusal: it is an approval
            # (and its letter carries no "you are refused the rest").
            outcome, chosen = APPROVED, decision_type.outcome(APPROVED)
        adjusted, adjustment_error = _adjusted_proposal(
            case=case, material=request.material, adjustments=adjustments
        )
        changes = adjusted["adjustments"] if adjusted is not None else []
        if adjusted is not None and amount is None and chosen and chosen.grants_amount:
            amount = adjusted["authority_amount"]
        if outcome == APPROVED and amount is None:
            amount = request.authority_amount
        if chosen is not None and not chosen.grants_amount:
            # A return decides nothing; a refusal of a sum grants nothing of it.
            amount = 0 if decision_type.has_amount and outcome != RETURNED else None
        error = rules.signer_is_eligible(signer)
        if error is None:
            # A password someone else set: first and second signatures alike wait for hers.
            error = signer_password_problem(user)
        if error is None:
            error = _authentication_error(authentication)
        # Only a decision request is signed; an exception is settled (services.exceptions).
        if error is None and request.kind != ApprovalRequest.Kind.DECISION:
            error = rules.DECISION_REQUEST_NOT_OPEN
        if error is None and not may_sign(user=user, request=request):
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
                authentication=authentication,
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
            error = rules.outcome_is_complete(outcome=chosen, motivation=motivation, amount=amount)
        if error is None and outcome != RETURNED:
            error = rules.flags_acknowledged(
                flags=request.material.flags or [], acknowledged=set(acknowledged_flags or [])
            )
        if error is None and not changes:
            error = rules.approval_not_below_proposal(
                outcome=outcome, amount=amount, proposed=request.authority_amount
            )
        if error is None and adjusted is not None:
            error = rules.adjustments_fit_outcome(
                outcome=chosen,
                outcomes=decision_type.outcomes,
                favours_applicant=[c["favours_applicant"] for c in changes],
            ) or rules.adjusted_amount_matches(
                amount=amount, adjusted_amount=adjusted["authority_amount"]
            )
        if error is None:
            error = rules.no_conflict_of_interest(signer=signer, household=party_personnummer(case))
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
                amount=rules.amount_decided_about(
                    outcome=outcome, proposed=request.authority_amount, granted=amount
                ),
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
            amount=rules.amount_decided_about(
                outcome=outcome, proposed=request.authority_amount, granted=amount
            ),
            on=today,
        )
        staff = user.staff
        now = timezone.now()
        substitution = authority.substitution if authority else None
        decision = Decision.objects.create(
            request=request,
            outcome=outcome,
            authority_amount=amount,
            decided=_decided(decision_type=decision_type, amount=amount, decided=decided),
            grants_amount=chosen.grants_amount,
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
            followed_proposal=_follows_proposal(
                request=request, outcome=outcome, amount=amount, changes=changes
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
                "proposed_amount": request.authority_amount,
                "decided": decision.decided,
                "followed_proposal": decision.followed_proposal,
                "adjustments": changes,
                "motivation": decision.motivation,
                "acknowledged_flags": sorted(acknowledged_flags or []),
                # What was signed, hashed: execution and verify_audit compare the row with it.
                "decision_sha256": decision_content_sha256(decision),
                **_signature_evidence(decision),
                "authentication": _authentication_evidence(authentication, signed_at=now),
                "cosignature_required": cosignature_required,
            },
        )
        # With a second signer rule the flow waits: nothing may resume it yet.
        if cosignature_required:
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
    authentication: rules.Authentication | None,
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
            first_amount=decision.authority_amount,
            adjustments=adjustments,
            first_adjustments=decision.adjustments,
        )
    if error is None:
        error = rules.no_conflict_of_interest(signer=signer, household=party_personnummer(case))
    if error is None:
        prepared = {request.material.prepared_by_id} - {None}
        error = rules.separation_of_duties(signer=signer, prepared_by_ids=prepared)
    authority = None
    if error is None:
        authority = _signing_authority(
            signer=signer,
            user=user,
            request=request,
            amount=rules.amount_decided_about(
                outcome=decision.outcome,
                proposed=request.authority_amount,
                granted=decision.authority_amount,
            ),
            on=on,
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
            "amount": decision.authority_amount,
            **_signature_evidence(cosignature),
            "authentication": _authentication_evidence(authentication, signed_at=now),
        },
    )
    command_enqueue(
        kind=PrefectCommand.Kind.RESUME,
        case=case,
        payload={"run_input": decision_run_input(decision)},
    )
    return decision


def decision_signed_claim(*, request_id: int) -> dict | None:
    """The resume input of the decision signed on `request_id` (or the request it was
    reopened as), once it is complete (every signature given); None while it waits.

    A robot restarted after the signature finds it here: the resume went to the run
    that died. It is a claim like any other, checked by the gate
    (decision_verify_for_execution) before anything is carried out.
    """
    current = request_current(request_id=request_id)
    decision = (
        Decision.objects.filter(request_id=current, request__status=ApprovalRequest.Status.DECIDED)
        .order_by("pk")
        .first()
    )
    return decision_run_input(decision) if decision is not None else None


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


# --- the second signer disagrees (issue 9, point 14) -------------------------------------

COSIGNATURE_REASON_MISSING = "COSIGNATURE_REASON_MISSING"


def cosignature_decline(*, request_id: int, user, reason: str):
    """The second signer refuses to co-sign: the case goes back to the first signer.

    The first decision stays (decisions are never deleted) and is never carried out: a
    CosignatureDecline records who refused and why, the waiting request is superseded,
    and the same material is opened again as a new request held by the first signer
    (the one who signed for an absent delegate, if so), who decides anew through the
    gate. Only someone who could give the second signature may refuse it.
    """
    from guardian.shortcuts import assign_perm

    from ..models import CosignatureDecline
    from ..notifications import notify_new_assignment

    reason = (reason or "").strip()
    signer = _signer_of(user)
    with transaction.atomic():
        request = request_lock(request_id, "material", "case", "unit")
        error = rules.signer_is_eligible(signer)
        if error is None and (
            request.kind != ApprovalRequest.Kind.DECISION
            or request.status != ApprovalRequest.Status.AWAITING_SECOND
        ):
            error = rules.DECISION_REQUEST_NOT_OPEN
        if error is None and not may_sign(user=user, request=request):
            error = rules.DECISION_SIGNER_NO_ACCESS
        decision = (
            Decision.objects.select_for_update().get(request=request) if error is None else None
        )
        if error is None:
            error = rules.cosigner_is_distinct(
                first_signer_ids={decision.signer_id, decision.on_behalf_of_id} - {None},
                cosigner_ids={user.pk},
            )
        if error is None and not reason:
            error = COSIGNATURE_REASON_MISSING
        if error is not None:
            raise GateRefused(error)
        request.status = ApprovalRequest.Status.SUPERSEDED
        request.save(update_fields=["status"])
        reopened = ApprovalRequest.objects.create(
            case=request.case,
            material=request.material,
            unit=request.unit,
            kind=request.kind,
            decision_type=request.decision_type,
            authority_amount=request.authority_amount,
            flow_run_id=request.flow_run_id,
            assigned_to=decision.signer,
            due_date=request.due_date,
        )
        for codename in ("view_approvalrequest", "sign_approvalrequest"):
            for grant in request.approvalrequestgroupobjectpermission_set.filter(
                permission__codename=codename
            ).select_related("group"):
                assign_perm(f"approvals.{codename}", grant.group, reopened)
        decline = CosignatureDecline.objects.create(
            decision=decision,
            signer=user,
            signer_name=user.get_full_name() or user.get_username(),
            reason=reason,
            reopened=reopened,
        )
        audit_append(
            kind=Kind.COSIGNATURE_DECLINED,
            actor=user,
            actor_label=actor_label_for(user),
            case=request.case,
            material=request.material,
            data={
                "request": request.pk,
                "decision": decision.pk,
                "decline": decline.pk,
                "reason": reason,
                "reopened_request": reopened.pk,
                "back_to": decision.signer.get_username(),
            },
        )
        notify_new_assignment(reopened, assignee=decision.signer)
    return decline


def request_current(*, request_id: int) -> int:
    """The request that now stands for `request_id`: itself, or the one it was reopened as
    after declined second signatures (the flow waits on the first one's id)."""
    from ..models import CosignatureDecline

    seen = {request_id}
    while True:
        later = (
            CosignatureDecline.objects.filter(decision__request_id=request_id)
            .values_list("reopened_id", flat=True)
            .first()
        )
        if later is None or later in seen:
            return request_id
        seen.add(later)
        request_id = later
