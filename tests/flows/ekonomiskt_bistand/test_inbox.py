"""Inbox services: claim, release, reassign, reminders, escalation and e-mail notifications."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import CommandError, call_command

from approvals import notifications, rules, services
from approvals.audit import Kind
from approvals.models import AuditEvent, Decision, Notice, PrefectCommand
from approvals.services import assignment
from municipality.models import Staff
from tests.approvals.inbox_helpers import clone_requests
from tests.gate_helpers import decide, material_open, sign

pytestmark = pytest.mark.usefixtures("fast_pdf")

TODAY = date(2026, 3, 18)  # a Wednesday


def _events(kind):
    return AuditEvent.objects.filter(kind=kind)


def _refused(code, action, **kwargs):
    events, notices = AuditEvent.objects.count(), Notice.objects.count()
    with pytest.raises(assignment.InboxError) as exc:
        action(**kwargs)
    assert exc.value.code == code
    assert AuditEvent.objects.count() == events
    assert Notice.objects.count() == notices


# --- claim -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_caseworker_claims_an_unassigned_request(open_request, people):
    """A caseworker of the unit claims a request; the claim is on the case's trail."""
    claimed = assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    assert claimed.assigned_to == people["anna"]
    event = _events(Kind.REQUEST_CLAIMED).get()
    assert event.actor == people["anna"] and event.case == open_request.case
    assert event.data == {"request": open_request.pk, "to": "anna"}


@pytest.mark.django_db
def test_claiming_ones_own_request_again_changes_nothing(open_request, people):
    """A second claim by the holder writes nothing."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    assert _events(Kind.REQUEST_CLAIMED).count() == 1


@pytest.mark.django_db
def test_a_claimed_request_cannot_be_claimed_by_another(open_request, people):
    """Erik cannot take a request Anna holds."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    _refused(
        assignment.INBOX_CLAIMED_BY_OTHER,
        assignment.request_claim,
        request_id=open_request.pk,
        user=people["erik"],
    )
    open_request.refresh_from_db()
    assert open_request.assigned_to == people["anna"]


@pytest.mark.django_db
def test_a_claimed_request_is_locked_for_other_signers(open_request, people):
    """Once Anna holds it, the gate refuses Erik's signature."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    erik = people["erik"]
    material_open(erik, open_request)
    with pytest.raises(services.GateRefused) as exc:
        sign(open_request, erik)
    assert exc.value.code == rules.DECISION_SIGNER_NOT_ASSIGNEE
    assert not Decision.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["olle", "greta", "etjanst"])
def test_people_outside_the_unit_cannot_claim(open_request, people, who):
    """Another unit's caseworker, the auditor and the integration account are refused."""
    _refused(
        assignment.INBOX_NO_ACCESS,
        assignment.request_claim,
        request_id=open_request.pk,
        user=people[who],
    )


@pytest.mark.django_db
def test_superuser_without_a_grant_cannot_claim(open_request, people):
    """The superuser flag grants no claim: only the unit's grant does."""
    boss = User.objects.create_superuser("boss", password="x")
    Staff.objects.create(user=boss, unit=open_request.unit, role=Staff.Role.CASEWORKER)
    _refused(
        assignment.INBOX_NO_ACCESS, assignment.request_claim, request_id=open_request.pk, user=boss
    )


@pytest.mark.django_db
def test_a_decided_request_cannot_be_claimed(open_request, people):
    """Only open requests are work to hold."""
    open_request.status = "decided"
    open_request.save(update_fields=["status"])
    _refused(
        assignment.INBOX_REQUEST_NOT_OPEN,
        assignment.request_claim,
        request_id=open_request.pk,
        user=people["anna"],
    )


# --- release -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_holder_releases_a_request(open_request, people):
    """The holder gives the request back to the queue; the release is on the trail."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    released = assignment.request_unclaim(request_id=open_request.pk, user=people["anna"])
    assert released.assigned_to is None
    assert _events(Kind.REQUEST_UNCLAIMED).get().data == {
        "request": open_request.pk,
        "from": "anna",
    }


@pytest.mark.django_db
def test_another_caseworker_cannot_release(open_request, people):
    """Erik cannot release a request Anna holds."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    _refused(
        assignment.INBOX_NOT_ASSIGNEE,
        assignment.request_unclaim,
        request_id=open_request.pk,
        user=people["erik"],
    )


@pytest.mark.django_db
def test_team_leader_releases_anothers_request(open_request, people):
    """The unit's team leader may give a held request back to the queue."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    assignment.request_unclaim(request_id=open_request.pk, user=people["maria"])
    open_request.refresh_from_db()
    assert open_request.assigned_to is None


# --- reassign ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_team_leader_reassigns_and_the_new_holder_is_told(
    open_request, people, django_capture_on_commit_callbacks
):
    """Maria hands Anna's request to Erik; Erik gets an e-mail without personal data."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    with django_capture_on_commit_callbacks(execute=True):
        assignment.request_reassign(
            request_id=open_request.pk, user=people["maria"], assignee=people["erik"]
        )
    open_request.refresh_from_db()
    assert open_request.assigned_to == people["erik"]
    assert _events(Kind.REQUEST_REASSIGNED).get().data == {
        "request": open_request.pk,
        "from": "anna",
        "to": "erik",
    }
    [message] = mail.outbox
    assert message.to == ["erik@kommun.example"]
    assert open_request.case.external_ref in message.body
    assert f"/cases/{open_request.case_id}/" in message.body
    assert open_request.case.applicant_personnummer not in message.body
    assert "Anna" not in message.body and "Lind" not in message.body
    assert Notice.objects.get().kind == Notice.Kind.ASSIGNED


@pytest.mark.django_db
def test_reassigning_to_nobody_returns_the_request_to_the_queue(open_request, people):
    """A team leader may put a held request back in the queue; nobody is mailed."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    assignment.request_reassign(request_id=open_request.pk, user=people["maria"], assignee=None)
    open_request.refresh_from_db()
    assert open_request.assigned_to is None
    assert not Notice.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["erik", "tove", "greta"])
def test_only_the_units_team_leader_reassigns(open_request, people, who):
    """A caseworker, another unit's team leader and the auditor cannot reassign."""
    _refused(
        assignment.INBOX_NOT_TEAM_LEADER,
        assignment.request_reassign,
        request_id=open_request.pk,
        user=people[who],
        assignee=people["anna"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["olle", "greta", "etjanst"])
def test_a_request_cannot_be_given_to_someone_outside_the_unit(open_request, people, who):
    """Another unit's caseworker, the auditor or an integration account never hold a case."""
    _refused(
        assignment.INBOX_ASSIGNEE_NOT_ELIGIBLE,
        assignment.request_reassign,
        request_id=open_request.pk,
        user=people["maria"],
        assignee=people[who],
    )


@pytest.mark.django_db
def test_a_request_cannot_be_given_to_an_inactive_colleague(open_request, people):
    """A deactivated account is not an assignee."""
    people["erik"].is_active = False
    people["erik"].save(update_fields=["is_active"])
    _refused(
        assignment.INBOX_ASSIGNEE_NOT_ELIGIBLE,
        assignment.request_reassign,
        request_id=open_request.pk,
        user=people["maria"],
        assignee=people["erik"],
    )


# --- due dates, reminders, escalation ----------------------------------------------------


def _reminders(today=TODAY):
    return notifications.reminders_send(today=today)


@pytest.mark.django_db
def test_request_due_next_working_day_reminds_the_unit_once(open_request, people):
    """An unassigned request due tomorrow: every caseworker of the unit is told, once."""
    open_request.due_date = TODAY + timedelta(days=1)
    open_request.save(update_fields=["due_date"])
    report = _reminders()
    assert (report.due_soon, report.overdue, report.escalated) == (1, 0, 0)
    assert sorted(m.to[0] for m in mail.outbox) == [
        "anna@kommun.example",
        "erik@kommun.example",
        "maria@kommun.example",
    ]
    assert open_request.case.external_ref in mail.outbox[0].body
    again = _reminders()
    assert (again.due_soon, again.emails) == (0, 0)
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_friday_reminds_about_requests_due_monday(open_request, people):
    """The next working day after a Friday is the Monday."""
    friday = date(2026, 3, 20)
    open_request.due_date = date(2026, 3, 23)
    open_request.save(update_fields=["due_date"])
    assert _reminders(today=friday).due_soon == 1


@pytest.mark.django_db
def test_claimed_request_reminds_only_its_holder(open_request, people):
    """A reminder about a held request goes to the holder alone."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    open_request.due_date = TODAY
    open_request.save(update_fields=["due_date"])
    _reminders()
    assert [m.to for m in mail.outbox] == [["anna@kommun.example"]]


@pytest.mark.django_db
def test_overdue_request_is_escalated_to_the_team_leader_once(open_request, people):
    """Overdue: the holder is reminded and the unit's team leader told, each once, on the trail."""
    assignment.request_claim(request_id=open_request.pk, user=people["erik"])
    open_request.due_date = TODAY - timedelta(days=2)
    open_request.save(update_fields=["due_date"])
    report = _reminders()
    assert (report.due_soon, report.overdue, report.escalated, report.emails) == (0, 1, 1, 2)
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["erik@kommun.example", "maria@kommun.example"]
    escalation = _events(Kind.REQUEST_ESCALATED).get()
    assert escalation.data["team_leaders"] == ["maria"]
    assert escalation.data["days_overdue"] == 2
    assert Notice.objects.filter(request=open_request).count() == 2
    _reminders(today=TODAY + timedelta(days=1))
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_an_overdue_request_is_never_decided_automatically(open_request, people):
    """However late, reminders and escalation leave the request open for a human."""
    open_request.due_date = TODAY - timedelta(days=30)
    open_request.save(update_fields=["due_date"])
    for day in range(3):
        _reminders(today=TODAY + timedelta(days=day))
    open_request.refresh_from_db()
    assert open_request.status == "open"
    assert open_request.assigned_to is None
    assert not Decision.objects.exists()
    assert not PrefectCommand.objects.filter(kind="resume").exists()
    assert not AuditEvent.objects.filter(kind="decision.signed").exists()
    open_request.case.refresh_from_db()
    assert open_request.case.status == "awaiting_decision"


@pytest.mark.django_db
def test_reminders_go_out_as_one_digest_per_person(open_request, people):
    """Fifty overdue requests make one overdue e-mail per person, not fifty."""
    clone_requests(open_request, 49, due_date=TODAY - timedelta(days=1))
    open_request.due_date = TODAY - timedelta(days=1)
    open_request.save(update_fields=["due_date"])
    report = _reminders()
    assert (report.overdue, report.escalated) == (50, 50)
    # anna, erik and maria get the overdue digest; maria also the escalation digest
    assert len(mail.outbox) == 4
    assert all("50" in m.subject for m in mail.outbox)


@pytest.mark.django_db
def test_nobody_to_tell_leaves_the_reminder_for_a_later_run(open_request, people):
    """Without any address the reminder is not recorded as sent, so it is tried again."""
    User.objects.filter(username__in=["anna", "erik", "maria"]).update(email="")
    open_request.due_date = TODAY
    open_request.save(update_fields=["due_date"])
    assert _reminders().due_soon == 0
    assert not Notice.objects.exists()
    User.objects.filter(username="anna").update(email="anna@kommun.example")
    assert _reminders().due_soon == 1


@pytest.mark.django_db
def test_failed_sending_records_nothing(open_request, people, settings, monkeypatch):
    """When the mail server fails, no reminder is marked sent and the run reports the error."""
    open_request.due_date = TODAY
    open_request.save(update_fields=["due_date"])

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(notifications, "send_mail", broken)
    with pytest.raises(OSError):
        _reminders()
    assert not Notice.objects.exists()
    assert not _events(Kind.NOTICE_SENT).exists()


@pytest.mark.django_db
def test_overdue_marker(open_request):
    """Open and past its due date is overdue; due today is not."""
    open_request.due_date = TODAY
    assert not assignment.request_is_overdue(open_request, today=TODAY)
    assert assignment.request_is_overdue(open_request, today=TODAY + timedelta(days=1))
    open_request.status = "decided"
    assert not assignment.request_is_overdue(open_request, today=TODAY + timedelta(days=1))


@pytest.mark.django_db
def test_send_reminders_command(open_request, people):
    """The management command runs the reminders and says what it sent."""
    from io import StringIO

    open_request.due_date = TODAY - timedelta(days=1)
    open_request.save(update_fields=["due_date"])
    out = StringIO()
    call_command("send_reminders", "--today", TODAY.isoformat(), stdout=out)
    assert "overdue: 1" in out.getvalue() and "escalated: 1" in out.getvalue()


def test_send_reminders_command_rejects_a_bad_date():
    """A malformed --today is a clear command error."""
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", "--today", "18/3")


# --- notifications -----------------------------------------------------------------------


@pytest.mark.django_db
def test_supplement_arrival_tells_the_caseworker_who_returned_the_case(
    open_request, people, django_capture_on_commit_callbacks
):
    """After a return and a supplement, the new material version is announced to the returner."""
    from tests.conftest import compile_case

    decide(open_request, people["erik"], outcome="returned", motivation="Hyresavi för mars saknas.")
    with django_capture_on_commit_callbacks(execute=True):
        new_request = compile_case(open_request.case)
    assert new_request.material.version == 2
    [message] = mail.outbox
    assert message.to == ["erik@kommun.example"]
    assert open_request.case.external_ref in message.body
    assert Notice.objects.get(kind=Notice.Kind.NEW_MATERIAL).request == new_request


@pytest.mark.django_db
def test_first_material_sends_no_supplement_notice(open_request, people):
    """Version 1 is ordinary intake: nobody is told about a supplement."""
    assert not Notice.objects.filter(kind=Notice.Kind.NEW_MATERIAL).exists()


@pytest.mark.django_db
def test_second_signature_notice_skips_the_first_signer(
    open_request, people, django_capture_on_commit_callbacks
):
    """The unit is asked for a second signature; the first signer is not asked."""
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_second_signature_needed(open_request, first_signer=people["anna"])
    assert sorted(m.to[0] for m in mail.outbox) == [
        "erik@kommun.example",
        "maria@kommun.example",
    ]
