"""Inbox work: claiming, releasing and reassigning requests, and when they are overdue.

Who may hold a request is decided in services.access; who may *sign* is the gate's
(services.signing). Every change is on the trail.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ..access import is_team_leader_of, may_work_on
from ..audit import Kind, actor_label_for, audit_append
from ..locks import request_lock
from ..models import ApprovalRequest
from ..notifications import notify_new_assignment
from .errors import ServiceError

INBOX_REQUEST_NOT_OPEN = "INBOX_REQUEST_NOT_OPEN"
INBOX_NO_ACCESS = "INBOX_NO_ACCESS"
INBOX_CLAIMED_BY_OTHER = "INBOX_CLAIMED_BY_OTHER"
INBOX_NOT_ASSIGNEE = "INBOX_NOT_ASSIGNEE"
INBOX_NOT_TEAM_LEADER = "INBOX_NOT_TEAM_LEADER"
INBOX_ASSIGNEE_NOT_ELIGIBLE = "INBOX_ASSIGNEE_NOT_ELIGIBLE"

MESSAGES = {
    INBOX_REQUEST_NOT_OPEN: gettext_lazy("The case is no longer waiting for a decision."),
    INBOX_NO_ACCESS: gettext_lazy("You cannot work on this case."),
    INBOX_CLAIMED_BY_OTHER: gettext_lazy("The case is claimed by another caseworker."),
    INBOX_NOT_ASSIGNEE: gettext_lazy(
        "Only the caseworker who claimed the case, or a team leader, can release it."
    ),
    INBOX_NOT_TEAM_LEADER: gettext_lazy("Only a team leader of the unit can reassign cases."),
    INBOX_ASSIGNEE_NOT_ELIGIBLE: gettext_lazy(
        "The chosen person cannot work on this case (not an active caseworker of the unit)."
    ),
}


class InboxError(ServiceError):
    """A refused inbox action (claim, release, reassign); `code` is one of INBOX_*."""

    def __init__(self, code: str):
        super().__init__(code, str(MESSAGES[code]))


def _audit(*, kind: str, request: ApprovalRequest, data: dict, user=None) -> None:
    audit_append(
        kind=kind,
        actor=user,
        actor_label=actor_label_for(user) if user is not None else "robot:inbox",
        case=request.case,
        data={"request": request.pk, **data},
    )


def _locked(request_id: int) -> ApprovalRequest:
    return request_lock(request_id, "case", "assigned_to")


# --- claim, release, reassign -------------------------------------------------------------


def request_claim(*, request_id: int, user) -> ApprovalRequest:
    """Take an open request from the unit's queue; nobody else can sign it while held.

    Claiming a request one already holds changes nothing.
    """
    with transaction.atomic():
        request = _locked(request_id)
        # Claims are for people who could sign it; everyone else is refused alike.
        if not may_work_on(user=user, request=request):
            raise InboxError(INBOX_NO_ACCESS)
        # A decided or superseded request is no longer anyone's work.
        if request.status != ApprovalRequest.Status.OPEN:
            raise InboxError(INBOX_REQUEST_NOT_OPEN)
        if request.assigned_to_id == user.pk:
            return request
        # First come, first served: a held request is released or reassigned, not taken.
        if request.assigned_to_id is not None:
            raise InboxError(INBOX_CLAIMED_BY_OTHER)
        request.assigned_to = user
        request.save(update_fields=["assigned_to"])
        _audit(
            kind=Kind.REQUEST_CLAIMED, request=request, user=user, data={"to": user.get_username()}
        )
    return request


def request_unclaim(*, request_id: int, user) -> ApprovalRequest:
    """Give a held request back to the unit's queue (its holder or a team leader)."""
    with transaction.atomic():
        request = _locked(request_id)
        leader = is_team_leader_of(user=user, request=request)
        # Only the holder (who still belongs to the unit) or the unit's team leader releases.
        if not leader and not may_work_on(user=user, request=request):
            raise InboxError(INBOX_NO_ACCESS)
        if request.status != ApprovalRequest.Status.OPEN:
            raise InboxError(INBOX_REQUEST_NOT_OPEN)
        if request.assigned_to_id is None:
            return request
        # Another caseworker's case is released by its holder or a team leader only.
        if request.assigned_to_id != user.pk and not leader:
            raise InboxError(INBOX_NOT_ASSIGNEE)
        previous = request.assigned_to.get_username()
        request.assigned_to = None
        request.save(update_fields=["assigned_to"])
        _audit(kind=Kind.REQUEST_UNCLAIMED, request=request, user=user, data={"from": previous})
    return request


def request_reassign(*, request_id: int, user, assignee) -> ApprovalRequest:
    """A team leader hands an open request to a colleague (or back to the queue: None).

    The new holder is told by e-mail once the change is committed.
    """
    with transaction.atomic():
        request = _locked(request_id)
        # Reassigning is the team leader's call, within their own unit only.
        if not is_team_leader_of(user=user, request=request):
            raise InboxError(INBOX_NOT_TEAM_LEADER)
        if request.status != ApprovalRequest.Status.OPEN:
            raise InboxError(INBOX_REQUEST_NOT_OPEN)
        # The new holder must be someone who could sign it.
        if assignee is not None and (
            not assignee.is_active or not may_work_on(user=assignee, request=request)
        ):
            raise InboxError(INBOX_ASSIGNEE_NOT_ELIGIBLE)
        if request.assigned_to_id == (assignee.pk if assignee else None):
            return request
        previous = request.assigned_to.get_username() if request.assigned_to_id else None
        request.assigned_to = assignee
        request.save(update_fields=["assigned_to"])
        _audit(
            kind=Kind.REQUEST_REASSIGNED,
            request=request,
            user=user,
            data={"from": previous, "to": assignee.get_username() if assignee else None},
        )
        if assignee is not None and assignee.pk != user.pk:
            notify_new_assignment(request, assignee=assignee)
    return request


# --- due dates --------------------------------------------------------------------------


def request_is_overdue(request: ApprovalRequest, *, today: date | None = None) -> bool:
    """An open request whose due date has passed. Overdue work is flagged, never decided."""
    today = today or timezone.localdate()
    return (
        request.status == ApprovalRequest.Status.OPEN
        and request.due_date is not None
        and request.due_date < today
    )
