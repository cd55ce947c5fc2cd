"""E-mails about requests: assignments, new material, second signatures, and the
periodic reminders and escalations (each one-time notice sent once).

The e-mails carry no personal data, only the case reference and a link.
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
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from municipality.models import Staff

from .access import VIEW, colleagues_for, holds_grant_q, may_work_on
from .audit import Kind, actor_label_for, audit_append
from .models import (
    ApprovalRequest,
    ApprovalRequestGroupObjectPermission,
    ApprovalRequestUserObjectPermission,
    Decision,
    Notice,
)
from .registry import registry
from .workdays import working_days_after

logger = logging.getLogger(__name__)

SIGN = "sign_approvalrequest"


def _audit(*, kind: str, request: ApprovalRequest, data: dict, user=None) -> None:
    audit_append(
        kind=kind,
        actor=user,
        actor_label=actor_label_for(user) if user is not None else "robot:inbox",
        case=request.case,
        data={"request": request.pk, **data},
    )


# --- e-mail -------------------------------------------------------------------------------


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _process_names() -> dict[str, str]:
    return {p.slug: str(p.name) for p in registry.all()}


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
    _audit(kind=Kind.NOTICE_SENT, request=request, data={"notice": kind, "recipients": names})
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
        ).filter(holds_grant_q(request_ref=request.pk, codename=VIEW))
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
                kind=Kind.REQUEST_ESCALATED,
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
