"""When the gate refuses a caseworker, the next step is one click away.

Over the delegation limit: the caseworker hands the case to a colleague whose
delegation covers the amount (claimed for them, and they are told). Claimed by a
colleague: the page names who holds it. What the gate decides stays the gate's
(services.signing); this module only finds who could sign, and hands over.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ..access import colleagues_for, may_work_on
from ..audit import Kind, actor_label_for, audit_append
from ..locks import request_lock
from ..models import ApprovalRequest
from ..notifications import notify_new_assignment
from .errors import ServiceError
from .signing import _signer_of, _signing_authority

# An amount no delegation line with a limit reaches: covered only by a line without one.
UNLIMITED_PROBE = 10**12

HANDOVER_NOT_OPEN = "HANDOVER_NOT_OPEN"
HANDOVER_NO_ACCESS = "HANDOVER_NO_ACCESS"
HANDOVER_COLLEAGUE_CANNOT_SIGN = "HANDOVER_COLLEAGUE_CANNOT_SIGN"

MESSAGES = {
    HANDOVER_NOT_OPEN: gettext_lazy("The case is no longer waiting for a decision."),
    HANDOVER_NO_ACCESS: gettext_lazy(
        "Only the caseworker holding the case (or anyone, while it is in the unit's queue) "
        "can hand it over."
    ),
    HANDOVER_COLLEAGUE_CANNOT_SIGN: gettext_lazy(
        "The chosen colleague's delegation does not cover this decision either."
    ),
}


class HandoverRefused(ServiceError):
    def __init__(self, code: str):
        super().__init__(code, str(MESSAGES[code]))


@dataclass(frozen=True)
class Colleague:
    user: object
    max_amount: int | None  # None: no limit


def delegation_limit(*, user, request: ApprovalRequest) -> int | None | bool:
    """The highest amount the user's delegation covers for the request today.

    None when it has no limit, False when the user holds no line for it at all.
    """
    from municipality.models import Delegation

    signer, today = _signer_of(user), timezone.localdate()

    def covers(amount: int) -> bool:
        return (
            _signing_authority(signer=signer, user=user, request=request, amount=amount, on=today)
            is not None
        )

    if not covers(0):
        return False
    if covers(UNLIMITED_PROBE):
        return None
    limits = Delegation.objects.filter(
        unit_id=request.unit_id,
        decision_type=request.decision_type,
        deleted_at__isnull=True,
        max_amount__isnull=False,
    ).values_list("max_amount", flat=True)
    return next((a for a in sorted(set(limits), reverse=True) if covers(a)), 0)


def colleagues_who_may_sign(*, request: ApprovalRequest, amount: int | None, exclude=None) -> list:
    """Colleagues of the unit who could sign the request at `amount` today, with their limit."""
    today = timezone.localdate()
    found = []
    for user in colleagues_for(request=request):
        if exclude is not None and user.pk == exclude.pk:
            continue
        authority = _signing_authority(
            signer=_signer_of(user), user=user, request=request, amount=amount or 0, on=today
        )
        if authority is not None:
            found.append(Colleague(user, delegation_limit(user=user, request=request)))
    return found


def request_hand_over(*, request_id: int, user, to, amount: int | None) -> ApprovalRequest:
    """Hand an open request to a colleague whose delegation covers `amount`; they hold it now.

    Allowed to the holder, or to anyone who may work on it while it is in the queue.
    """
    with transaction.atomic():
        request = request_lock(request_id, "case", "assigned_to")
        if request.status != ApprovalRequest.Status.OPEN:
            raise HandoverRefused(HANDOVER_NOT_OPEN)
        if not may_work_on(user=user, request=request) or request.assigned_to_id not in (
            None,
            user.pk,
        ):
            raise HandoverRefused(HANDOVER_NO_ACCESS)
        if to is None or not any(
            c.user.pk == to.pk for c in colleagues_who_may_sign(request=request, amount=amount)
        ):
            raise HandoverRefused(HANDOVER_COLLEAGUE_CANNOT_SIGN)
        previous = request.assigned_to.get_username() if request.assigned_to_id else None
        request.assigned_to = to
        request.save(update_fields=["assigned_to"])
        audit_append(
            kind=Kind.REQUEST_HANDED_OVER,
            actor=user,
            actor_label=actor_label_for(user),
            case=request.case,
            data={
                "request": request.pk,
                "from": previous,
                "to": to.get_username(),
                "amount": amount,
                "why": "delegation",
            },
        )
        notify_new_assignment(request, assignee=to)
    return request
