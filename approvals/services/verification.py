"""After a flow resumes: the claim it received is checked against the signed decision.

The resume input is only a claim (anyone with access to Prefect's API can send one);
the decision row in the database is the authority, re-checked under the rules and
the delegation order as they read now.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from municipality.models import Delegation, Staff, Substitution

from .. import integrity, rules
from ..audit import Kind, audit_append
from ..models import ApprovalRequest, AuditEvent, Cosignature, Decision
from .errors import GateRefused
from .signing import (
    _adjusted_proposal,
    _delegation_line,
    _signer_of,
    _substitution_line,
    decision_type_of,
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
    adjusted, error = _adjusted_proposal(
        case=request.case, material=request.material, adjustments=decision.adjustments
    )
    if error is None and adjusted["adjustments"] != decision.adjustments:
        error = rules.DECISION_ADJUSTMENT_INVALID
    decision_type = decision_type_of(request)
    chosen = decision_type.outcome(decision.outcome) if decision_type else None
    if error is None and chosen is None:
        error = rules.DECISION_OUTCOME_INVALID
    if error is None:
        error = rules.adjustments_fit_outcome(
            outcome=chosen,
            outcomes=decision_type.outcomes,
            favours_applicant=[c["favours_applicant"] for c in decision.adjustments],
        ) or rules.adjusted_amount_matches(
            amount=decision.authority_amount, adjusted_amount=adjusted["authority_amount"]
        )
    return error


def _decision_recheck(*, request: ApprovalRequest, decision: Decision) -> str | None:
    """The gate's rules re-read from the database for a stored decision."""
    if decision.material_sha256 != request.material.sha256:
        return rules.DECISION_MATERIAL_STALE
    decision_type = decision_type_of(request)
    # Only an outcome the process declares for the decision type can be carried out.
    if decision_type is None or decision_type.outcome(decision.outcome) is None:
        return rules.DECISION_OUTCOME_INVALID
    error = _adjustments_recheck(request=request, decision=decision)
    # The row must be what was signed, on material that is what was compiled (a row edited
    # or inserted in the database is never carried out).
    if error is None and (
        integrity.decision_problem(decision) or integrity.material_problem(request.material)
    ):
        error = rules.RESUME_RECORD_TAMPERED
    if error is None:
        error = _human_signer_error(decision.signer)
    if error is None:
        error = _authority_still_covers(
            request=request,
            signer_user=decision.signer,
            delegation=decision.delegation,
            substitution=decision.substitution,
            on_behalf_of_id=decision.on_behalf_of_id,
            amount=rules.amount_decided_about(
                outcome=decision.outcome,
                proposed=request.authority_amount,
                granted=decision.authority_amount,
            ),
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
            amount=rules.amount_decided_about(
                outcome=decision.outcome,
                proposed=request.authority_amount,
                granted=decision.authority_amount,
            ),
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
