"""Exceptions of service processes: what the robot could not settle goes to a person.

The robot opens an exception request (services.robot.material_compile with
request_kind=EXCEPTION) and a person of the owning unit holding its grant settles it
with a reason. A settlement is never a Decision: these processes exercise no public
authority, and the database refuses a Decision on an exception request.
"""

from django.db import transaction
from django.utils import timezone

from ..access import may_settle_exception
from ..audit import Kind, actor_label_for, audit_append
from ..locks import request_lock
from ..models import ApprovalRequest, Case, ExceptionSettlement, PrefectCommand
from ..prefect_gateway import command_enqueue
from ..registry import DecisionMode, registry
from .errors import (
    EXCEPTION_ACTION_INVALID,
    EXCEPTION_NO_ACCESS,
    EXCEPTION_NOT_OPEN,
    EXCEPTION_REASON_MISSING,
    ServiceError,
)


def exception_settle(
    *, request_id: int, user, action: str, reason: str, data: dict | None = None
) -> ExceptionSettlement:
    """Record a person's settlement of an exception and let the robot carry it out."""
    with transaction.atomic():
        request = request_lock(request_id, "case")
        case = request.case
        spec = registry[case.process]
        # Only an open exception of a process in `exceptions` mode is settled here.
        if (
            request.kind != ApprovalRequest.Kind.EXCEPTION
            or request.status != ApprovalRequest.Status.OPEN
            or spec.decision_mode != DecisionMode.EXCEPTIONS
        ):
            raise ServiceError(EXCEPTION_NOT_OPEN, "This exception is not open.")
        # A person of the owning unit with the grant, holding it or with nobody holding it.
        if not may_settle_exception(user=user, request=request) or request.assigned_to_id not in (
            None,
            user.pk,
        ):
            raise ServiceError(EXCEPTION_NO_ACCESS, "You cannot settle this exception.")
        allowed = spec.hook("exception_actions")
        if allowed is not None and action not in allowed():
            raise ServiceError(EXCEPTION_ACTION_INVALID, f"Unknown action {action!r}.")
        if not reason.strip():
            raise ServiceError(EXCEPTION_REASON_MISSING, "Write why you settle it this way.")
        settlement = ExceptionSettlement.objects.create(
            request=request,
            action=action,
            reason=reason.strip(),
            data=data or {},
            settled_by=user,
            settled_at=timezone.now(),
        )
        request.status = ApprovalRequest.Status.DECIDED
        request.save(update_fields=["status"])
        audit_append(
            kind=Kind.EXCEPTION_SETTLED,
            actor=user,
            actor_label=actor_label_for(user),
            case=case,
            material=request.material,
            data={
                "request": request.pk,
                "settlement": settlement.pk,
                "action": action,
                "reason": settlement.reason,
            },
        )
        if case.flow_run_id is not None:
            command_enqueue(
                kind=PrefectCommand.Kind.RESUME,
                case=case,
                payload={"run_input": {"request_id": request.pk, "settlement_id": settlement.pk}},
            )
        else:
            Case.objects.filter(pk=case.pk).update(
                status=Case.Status.COMPLETED, decided_at=timezone.now()
            )
    return settlement
