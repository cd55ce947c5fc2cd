"""The caseworker's inbox: who works on which request, due dates, reminders, e-mail.

Who may *sign* is decided by the gate (approvals.services.decision_sign). This
module decides only who works on which request: a claim locks a request for
everyone else (the gate refuses any signer but the assignee), a team leader
(gruppledare) may move work within the unit, and overdue work is escalated to the
team leader — never decided — automatically.

E-mails carry no personal data: the case reference, the process, the due date and
a link. Reading the case needs a login, and that read is logged.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from municipality.models import Process, Staff

from .audit import audit_append
from .models import (
    ApprovalRequest,
    ApprovalRequestGroupObjectPermission,
    ApprovalRequestUserObjectPermission,
    Decision,
    Notice,
)
from .services import ServiceError, actor_label_for, holds_object_perm, working_days_after

logger = logging.getLogger(__name__)

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

# Audit event kinds written here (the trail's other kinds are in approvals.audit.Kind).
REQUEST_CLAIMED = "request.claimed"
REQUEST_UNCLAIMED = "request.unclaimed"
REQUEST_REASSIGNED = "request.reassigned"
REQUEST_ESCALATED = "request.escalated"
NOTICE_SENT = "notice.sent"

SIGN = "sign_approvalrequest"
VIEW = "view_approvalrequest"


class InboxError(ServiceError):
    """A refused inbox action (claim, release, reassign); `code` is one of INBOX_*."""

    def __init__(self, code: str):
        super().__init__(code, str(MESSAGES[code]))


# --- who may work on a request -----------------------------------------------------------


def _staff_of(user) -> Staff | None:
    if user is None or user.pk is None:
        return None
    return Staff.objects.filter(user=user).first()


def may_work_on(*, user, request: ApprovalRequest) -> bool:
    """Whether the user may hold the request: an active human of its unit with the sign grant.

    The same first conditions decision_sign checks, so that nobody is handed a case
    they could never sign. Delegation limits stay with the gate.
    """
    staff = _staff_of(user)
    # Integration and robot accounts, other units' staff and people without the grant
    # never hold a case; a superuser flag does not change that (grants are read directly).
    if staff is None or not staff.is_human or staff.unit_id != request.unit_id:
        return False
    return holds_object_perm(user=user, codename=SIGN, obj=request)


def is_team_leader_of(*, user, request: ApprovalRequest) -> bool:
    """Whether the user is a human team leader of the request's unit who can see it."""
    staff = _staff_of(user)
    # A team leader of another unit, or anyone else, does not lead this unit's work.
    if (
        staff is None
        or not staff.is_human
        or staff.role != Staff.Role.TEAM_LEADER
        or staff.unit_id != request.unit_id
    ):
        return False
    return holds_object_perm(user=user, codename=VIEW, obj=request)


def colleagues_for(*, request: ApprovalRequest) -> list:
    """People a team leader may assign the request to: those who may work on it."""
    User = get_user_model()
    return list(
        User.objects.filter(
            is_active=True,
            staff__kind=Staff.Kind.HUMAN,
            staff__unit_id=request.unit_id,
        )
        .filter(_holds_grant_q(request_ref=request.pk, codename=SIGN))
        .order_by("first_name", "last_name", "username")
    )


def _holds_grant_q(*, request_ref, codename: str) -> Q:
    """Users holding `codename` on a request through a group or a direct grant."""
    via_group = ApprovalRequestGroupObjectPermission.objects.filter(
        content_object=request_ref, permission__codename=codename, group__user=OuterRef("pk")
    )
    direct = ApprovalRequestUserObjectPermission.objects.filter(
        content_object=request_ref, permission__codename=codename, user=OuterRef("pk")
    )
    return Q(Exists(via_group)) | Q(Exists(direct))


def _locked(request_id: int) -> ApprovalRequest:
    return (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("case", "assigned_to")
        .get(pk=request_id)
    )


def _audit(*, kind: str, request: ApprovalRequest, data: dict, user=None) -> None:
    audit_append(
        kind=kind,
        actor=user,
        actor_label=actor_label_for(user) if user is not None else "robot:inbox",
        case=request.case,
        data={"request": request.pk, **data},
    )


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
        _audit(kind=REQUEST_CLAIMED, request=request, user=user, data={"to": user.get_username()})
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
        _audit(kind=REQUEST_UNCLAIMED, request=request, user=user, data={"from": previous})
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
            kind=REQUEST_REASSIGNED,
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


# --- e-mail -------------------------------------------------------------------------------


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _process_names() -> dict[str, str]:
    return dict(Process.objects.values_list("slug", "name"))


def _case_lines(requests: Iterable[ApprovalRequest], processes: dict[str, str]) -> str:
    lines = []
    for r in requests:
        due = r.due_date.isoformat() if r.due_date else "–"
        lines.append(
            f"- {r.case.external_ref} · {processes.get(r.case.process, r.case.process)} · "
            + _("due %(date)s") % {"date": due}
            + f"\n  {_site_url(reverse('approvals:case', args=[r.case_id]))}"
        )
    return "\n".join(lines)


def _compose(*, intro: str, requests: list[ApprovalRequest]) -> str:
    return "\n\n".join(
        [
            intro,
            _case_lines(requests, _process_names()),
            _(
                "This message contains no personal data. Log in to Robotfabrik to read "
                "the case; every read is logged."
            ),
            "-- \nRobotfabrik",
        ]
    )


def _mail(*, user, subject: str, body: str) -> None:
    send_mail(
        subject=f"[Robotfabrik] {subject}",
        message=body,
        from_email=None,
        recipient_list=[user.email],
        fail_silently=False,
    )


def _with_address(users: Iterable) -> list:
    return [u for u in users if u.is_active and u.email]


def _record(*, request: ApprovalRequest, kind: str, users: list) -> Notice:
    names = sorted(u.get_username() for u in users)
    notice = Notice.objects.create(request=request, kind=kind, recipients=names)
    _audit(kind=NOTICE_SENT, request=request, data={"notice": kind, "recipients": names})
    return notice


def _notify_on_commit(
    *, request: ApprovalRequest, kind: str, users: Iterable, subject: str, intro: str
) -> Notice | None:
    """Record a notification now and send it once the surrounding transaction commits."""
    users = _with_address(users)
    if not users:
        return None
    notice = _record(request=request, kind=kind, users=users)
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = str(subject), _compose(intro=str(intro), requests=[request])

    def send() -> None:
        for user in users:
            _mail(user=user, subject=subject, body=body)

    transaction.on_commit(send, robust=True)
    return notice


def _unit_workers(request: ApprovalRequest) -> list:
    """The people who could take the request: its unit's caseworkers and team leaders."""
    return colleagues_for(request=request)


def _team_leaders(request: ApprovalRequest) -> list:
    User = get_user_model()
    return list(
        User.objects.filter(
            is_active=True,
            staff__kind=Staff.Kind.HUMAN,
            staff__role=Staff.Role.TEAM_LEADER,
            staff__unit_id=request.unit_id,
        ).filter(_holds_grant_q(request_ref=request.pk, codename=VIEW))
    )


def notify_new_assignment(request: ApprovalRequest, *, assignee) -> Notice | None:
    """Tell a caseworker that a team leader gave them a case."""
    return _notify_on_commit(
        request=request,
        kind=Notice.Kind.ASSIGNED,
        users=[assignee],
        subject=gettext_lazy("A case was assigned to you"),
        intro=gettext_lazy("Your team leader assigned this case to you:"),
    )


def notify_new_material(request: ApprovalRequest) -> Notice | None:
    """Tell whoever returned the case for completion that the supplement has arrived.

    Called by material_compile when a version after the first is compiled. The
    caseworker who signed the latest return is told if they can still take the
    case; otherwise the holder, otherwise the whole unit.
    """
    returned_by = (
        Decision.objects.filter(request__case_id=request.case_id, outcome="returned")
        .select_related("signer")
        .order_by("-signed_at")
        .first()
    )
    if returned_by is not None and may_work_on(user=returned_by.signer, request=request):
        users = [returned_by.signer]
    elif request.assigned_to_id is not None:
        users = [request.assigned_to]
    else:
        users = _unit_workers(request)
    return _notify_on_commit(
        request=request,
        kind=Notice.Kind.NEW_MATERIAL,
        users=users,
        subject=gettext_lazy("Supplement arrived"),
        intro=gettext_lazy(
            "The applicant has sent what was missing. The robot has compiled new "
            "decision material and the case is waiting for a decision again:"
        ),
    )


def notify_second_signature_needed(request: ApprovalRequest, *, first_signer=None) -> Notice | None:
    """Tell the unit that a decision needs a second signature (not the first signer)."""
    users = [u for u in _unit_workers(request) if first_signer is None or u.pk != first_signer.pk]
    return _notify_on_commit(
        request=request,
        kind=Notice.Kind.SECOND_SIGNATURE,
        users=users,
        subject=gettext_lazy("Second signature needed"),
        intro=gettext_lazy("A decision in your unit needs a second signature:"),
    )


# --- reminders and escalation ------------------------------------------------------------


@dataclass
class ReminderReport:
    """How many requests were reminded about, per notice kind, and how many e-mails went out."""

    due_soon: int = 0
    overdue: int = 0
    escalated: int = 0
    emails: int = 0


def _recipients_by_request(requests: list[ApprovalRequest], *, leaders: bool) -> dict[int, list]:
    """Who to tell about each request, in a fixed number of queries for the whole batch.

    Workers: the holder if the request is claimed, else everyone in the unit who may
    take it. Leaders: the unit's team leaders who can see it.
    """
    User = get_user_model()
    ids = [r.pk for r in requests]
    codename = VIEW if leaders else SIGN
    holders: dict[int, set[int]] = defaultdict(set)
    for request_id, user_id in ApprovalRequestGroupObjectPermission.objects.filter(
        content_object_id__in=ids, permission__codename=codename
    ).values_list("content_object_id", "group__user"):
        if user_id is not None:
            holders[request_id].add(user_id)
    for request_id, user_id in ApprovalRequestUserObjectPermission.objects.filter(
        content_object_id__in=ids, permission__codename=codename
    ).values_list("content_object_id", "user_id"):
        holders[request_id].add(user_id)
    people = User.objects.filter(
        pk__in={uid for uids in holders.values() for uid in uids},
        is_active=True,
        staff__kind=Staff.Kind.HUMAN,
    ).select_related("staff")
    if leaders:
        people = people.filter(staff__role=Staff.Role.TEAM_LEADER)
    by_id = {u.pk: u for u in people}
    result = {}
    for r in requests:
        eligible = [
            by_id[uid]
            for uid in sorted(holders[r.pk])
            if uid in by_id and by_id[uid].staff.unit_id == r.unit_id
        ]
        holder = [u for u in eligible if u.pk == r.assigned_to_id]
        # A claimed request concerns its holder; if the holder can no longer take it
        # (left the unit, deactivated), the whole unit is told instead.
        if not leaders and holder:
            eligible = holder
        result[r.pk] = _with_address(eligible)
    return result


REMINDER_BATCH = 500


def reminders_send(*, today: date | None = None) -> ReminderReport:
    """Remind about requests due by the next working day or overdue; escalate overdue ones.

    Each kind of reminder goes out once per request (recorded as a Notice, unique per
    request and kind). One e-mail per person and kind lists all their cases. Mail is
    sent inside the transaction that records it: if sending fails nothing is recorded
    and the next run tries again. Nothing here changes a request's status: an overdue
    request waits for a human however late it is.
    """
    today = today or timezone.localdate()
    next_working_day = working_days_after(today, 1)
    open_requests = ApprovalRequest.objects.filter(
        status=ApprovalRequest.Status.OPEN, due_date__isnull=False
    )
    plan = [
        (
            Notice.Kind.DUE_SOON,
            open_requests.filter(due_date__gte=today, due_date__lte=next_working_day),
            False,
        ),
        (Notice.Kind.OVERDUE, open_requests.filter(due_date__lt=today), False),
        (Notice.Kind.ESCALATED, open_requests.filter(due_date__lt=today), True),
    ]
    report = ReminderReport()
    for kind, candidates, leaders in plan:
        already = Notice.objects.filter(request=OuterRef("pk"), kind=kind)
        last_pk = 0
        while True:
            with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
                batch = list(
                    candidates.filter(pk__gt=last_pk)
                    .exclude(Exists(already))
                    .select_related("case")
                    .select_for_update(of=("self",), skip_locked=True)
                    .order_by("pk")[:REMINDER_BATCH]
                )
                if not batch:
                    break
                last_pk = batch[-1].pk
                sent = _remind_batch(kind=kind, batch=batch, leaders=leaders, today=today)
            setattr(report, kind, getattr(report, kind) + sent[0])
            report.emails += sent[1]
    return report


def _remind_batch(
    *, kind: str, batch: list[ApprovalRequest], leaders: bool, today: date
) -> tuple[int, int]:
    recipients = _recipients_by_request(batch, leaders=leaders)
    per_user: dict[int, tuple[object, list[ApprovalRequest]]] = {}
    reminded = 0
    for request in batch:
        users = recipients[request.pk]
        # Nobody with an address to tell: left unrecorded, so a later run tries again.
        if not users:
            continue
        reminded += 1
        _record(request=request, kind=kind, users=users)
        if kind == Notice.Kind.ESCALATED:
            _audit(
                kind=REQUEST_ESCALATED,
                request=request,
                data={
                    "due_date": request.due_date.isoformat(),
                    "days_overdue": (today - request.due_date).days,
                    "team_leaders": sorted(u.get_username() for u in users),
                },
            )
        for user in users:
            per_user.setdefault(user.pk, (user, []))[1].append(request)
    for user, requests in per_user.values():
        subject, intro = _reminder_text(kind=kind, count=len(requests))
        _mail(user=user, subject=subject, body=_compose(intro=intro, requests=requests))
    return reminded, len(per_user)


def _reminder_text(*, kind: str, count: int) -> tuple[str, str]:
    if kind == Notice.Kind.DUE_SOON:
        return (
            ngettext(
                "%(count)d case is due by the next working day",
                "%(count)d cases are due by the next working day",
                count,
            )
            % {"count": count},
            _("These cases should be decided by the next working day:"),
        )
    if kind == Notice.Kind.OVERDUE:
        return (
            ngettext("%(count)d case is overdue", "%(count)d cases are overdue", count)
            % {"count": count},
            _("These cases are past their due date and still wait for a decision:"),
        )
    return (
        ngettext(
            "Escalation: %(count)d overdue case in your unit",
            "Escalation: %(count)d overdue cases in your unit",
            count,
        )
        % {"count": count},
        _(
            "As team leader you are told that these cases are past their due date. "
            "Nothing is decided automatically; consider reassigning them:"
        ),
    )
