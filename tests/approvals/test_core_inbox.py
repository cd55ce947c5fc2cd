"""Inbox services with the test-only process: claim, release, reassign, reminders, notices.

The same behaviour driven by bistånd's robot: tests/flows/ekonomiskt_bistand/test_inbox.py.
"""

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
from tests.gate_helpers import decide, material_open, sign

from .core_helpers import core_compile
from .inbox_helpers import clone_requests

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
def test_caseworker_claims_an_unassigned_request(core_request, crew):
    """A caseworker of the unit claims a request; the claim is on the case's trail."""
    claimed = assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    assert claimed.assigned_to == crew["kim"]
    event = _events(Kind.REQUEST_CLAIMED).get()
    assert event.actor == crew["kim"] and event.case == core_request.case
    assert event.data == {"request": core_request.pk, "to": "kim"}


@pytest.mark.django_db
def test_claiming_ones_own_request_again_changes_nothing(core_request, crew):
    """A second claim by the holder writes nothing."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    assert _events(Kind.REQUEST_CLAIMED).count() == 1


@pytest.mark.django_db
def test_a_claimed_request_cannot_be_claimed_by_another(core_request, crew):
    """Kai cannot take a request Kim holds."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    _refused(
        assignment.INBOX_CLAIMED_BY_OTHER,
        assignment.request_claim,
        request_id=core_request.pk,
        user=crew["kai"],
    )
    core_request.refresh_from_db()
    assert core_request.assigned_to == crew["kim"]


@pytest.mark.django_db
def test_a_claimed_request_is_locked_for_other_signers(core_request, crew):
    """Once Kim holds it, the gate refuses Kai's signature."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    kai = crew["kai"]
    material_open(kai, core_request)
    with pytest.raises(services.GateRefused) as exc:
        sign(core_request, kai)
    assert exc.value.code == rules.DECISION_SIGNER_NOT_ASSIGNEE
    assert not Decision.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["olle", "greta", "core-system"])
def test_people_outside_the_unit_cannot_claim(core_request, crew, who):
    """Another unit's caseworker, the auditor and the integration account are refused."""
    _refused(
        assignment.INBOX_NO_ACCESS,
        assignment.request_claim,
        request_id=core_request.pk,
        user=crew[who],
    )


@pytest.mark.django_db
def test_superuser_without_a_grant_cannot_claim(core_request, crew):
    """The superuser flag grants no claim: only the unit's grant does."""
    boss = User.objects.create_superuser("boss", password="x")
    Staff.objects.create(user=boss, unit=core_request.unit, role=Staff.Role.CASEWORKER)
    _refused(
        assignment.INBOX_NO_ACCESS, assignment.request_claim, request_id=core_request.pk, user=boss
    )


@pytest.mark.django_db
def test_a_decided_request_cannot_be_claimed(core_request, crew):
    """Only open requests are work to hold."""
    core_request.status = "decided"
    core_request.save(update_fields=["status"])
    _refused(
        assignment.INBOX_REQUEST_NOT_OPEN,
        assignment.request_claim,
        request_id=core_request.pk,
        user=crew["kim"],
    )


# --- release -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_holder_releases_a_request(core_request, crew):
    """The holder gives the request back to the queue; the release is on the trail."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    released = assignment.request_unclaim(request_id=core_request.pk, user=crew["kim"])
    assert released.assigned_to is None
    assert _events(Kind.REQUEST_UNCLAIMED).get().data == {
        "request": core_request.pk,
        "from": "kim",
    }


@pytest.mark.django_db
def test_another_caseworker_cannot_release(core_request, crew):
    """Kai cannot release a request Kim holds."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    _refused(
        assignment.INBOX_NOT_ASSIGNEE,
        assignment.request_unclaim,
        request_id=core_request.pk,
        user=crew["kai"],
    )


@pytest.mark.django_db
def test_team_leader_releases_anothers_request(core_request, crew):
    """The unit's team leader may give a held request back to the queue."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    assignment.request_unclaim(request_id=core_request.pk, user=crew["lo"])
    core_request.refresh_from_db()
    assert core_request.assigned_to is None


# --- reassign ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_team_leader_reassigns_and_the_new_holder_is_told(
    core_request, crew, django_capture_on_commit_callbacks
):
    """Lo hands Kim's request to Kai; Kai gets an e-mail without personal data."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    with django_capture_on_commit_callbacks(execute=True):
        assignment.request_reassign(
            request_id=core_request.pk, user=crew["lo"], assignee=crew["kai"]
        )
    core_request.refresh_from_db()
    assert core_request.assigned_to == crew["kai"]
    assert _events(Kind.REQUEST_REASSIGNED).get().data == {
        "request": core_request.pk,
        "from": "kim",
        "to": "kai",
    }
    [message] = mail.outbox
    assert message.to == ["kai@kommun.example"]
    assert core_request.case.external_ref in message.body
    assert f"/cases/{core_request.case_id}/" in message.body
    assert core_request.case.applicant_personnummer not in message.body
    assert "Kim" not in message.body
    assert Notice.objects.get().kind == Notice.Kind.ASSIGNED


@pytest.mark.django_db
def test_reassigning_to_nobody_returns_the_request_to_the_queue(core_request, crew):
    """A team leader may put a held request back in the queue; nobody is mailed."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    assignment.request_reassign(request_id=core_request.pk, user=crew["lo"], assignee=None)
    core_request.refresh_from_db()
    assert core_request.assigned_to is None
    assert not Notice.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["kai", "tove", "greta"])
def test_only_the_units_team_leader_reassigns(core_request, crew, who):
    """A caseworker, another unit's team leader and the auditor cannot reassign."""
    _refused(
        assignment.INBOX_NOT_TEAM_LEADER,
        assignment.request_reassign,
        request_id=core_request.pk,
        user=crew[who],
        assignee=crew["kim"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["olle", "greta", "core-system"])
def test_a_request_cannot_be_given_to_someone_outside_the_unit(core_request, crew, who):
    """Another unit's caseworker, the auditor or an integration account never hold a case."""
    _refused(
        assignment.INBOX_ASSIGNEE_NOT_ELIGIBLE,
        assignment.request_reassign,
        request_id=core_request.pk,
        user=crew["lo"],
        assignee=crew[who],
    )


@pytest.mark.django_db
def test_a_request_cannot_be_given_to_an_inactive_colleague(core_request, crew):
    """A deactivated account is not an assignee."""
    crew["kai"].is_active = False
    crew["kai"].save(update_fields=["is_active"])
    _refused(
        assignment.INBOX_ASSIGNEE_NOT_ELIGIBLE,
        assignment.request_reassign,
        request_id=core_request.pk,
        user=crew["lo"],
        assignee=crew["kai"],
    )


# --- due dates, reminders, escalation ----------------------------------------------------


def _reminders(today=TODAY):
    return notifications.reminders_send(today=today)


@pytest.mark.django_db
def test_request_due_next_working_day_reminds_the_unit_once(core_request, crew):
    """An unassigned request due tomorrow: every caseworker of the unit is told, once."""
    core_request.due_date = TODAY + timedelta(days=1)
    core_request.save(update_fields=["due_date"])
    report = _reminders()
    assert (report.due_soon, report.overdue, report.escalated) == (1, 0, 0)
    assert sorted(m.to[0] for m in mail.outbox) == [
        "kai@kommun.example",
        "kim@kommun.example",
        "lo@kommun.example",
    ]
    assert core_request.case.external_ref in mail.outbox[0].body
    again = _reminders()
    assert (again.due_soon, again.emails) == (0, 0)
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_friday_reminds_about_requests_due_monday(core_request, crew):
    """The next working day after a Friday is the Monday."""
    friday = date(2026, 3, 20)
    core_request.due_date = date(2026, 3, 23)
    core_request.save(update_fields=["due_date"])
    assert _reminders(today=friday).due_soon == 1


@pytest.mark.django_db
def test_claimed_request_reminds_only_its_holder(core_request, crew):
    """A reminder about a held request goes to the holder alone."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    core_request.due_date = TODAY
    core_request.save(update_fields=["due_date"])
    _reminders()
    assert [m.to for m in mail.outbox] == [["kim@kommun.example"]]


@pytest.mark.django_db
def test_overdue_request_is_escalated_to_the_team_leader_once(core_request, crew):
    """Overdue: the holder is reminded and the unit's team leader told, each once, on the trail."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kai"])
    core_request.due_date = TODAY - timedelta(days=2)
    core_request.save(update_fields=["due_date"])
    report = _reminders()
    assert (report.due_soon, report.overdue, report.escalated, report.emails) == (0, 1, 1, 2)
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["kai@kommun.example", "lo@kommun.example"]
    escalation = _events(Kind.REQUEST_ESCALATED).get()
    assert escalation.data["team_leaders"] == ["lo"]
    assert escalation.data["days_overdue"] == 2
    assert Notice.objects.filter(request=core_request).count() == 2
    _reminders(today=TODAY + timedelta(days=1))
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_an_overdue_request_is_never_decided_automatically(core_request, crew):
    """However late, reminders and escalation leave the request open for a human."""
    core_request.due_date = TODAY - timedelta(days=30)
    core_request.save(update_fields=["due_date"])
    for day in range(3):
        _reminders(today=TODAY + timedelta(days=day))
    core_request.refresh_from_db()
    assert core_request.status == "open"
    assert core_request.assigned_to is None
    assert not Decision.objects.exists()
    assert not PrefectCommand.objects.filter(kind="resume").exists()
    assert not AuditEvent.objects.filter(kind="decision.signed").exists()
    core_request.case.refresh_from_db()
    assert core_request.case.status == "awaiting_decision"


@pytest.mark.django_db
def test_reminders_go_out_as_one_digest_per_person(core_request, crew):
    """Fifty overdue requests make one overdue e-mail per person, not fifty."""
    clone_requests(core_request, 49, due_date=TODAY - timedelta(days=1))
    core_request.due_date = TODAY - timedelta(days=1)
    core_request.save(update_fields=["due_date"])
    report = _reminders()
    assert (report.overdue, report.escalated) == (50, 50)
    # kim, kai and lo get the overdue digest; lo also the escalation digest
    assert len(mail.outbox) == 4
    assert all("50" in m.subject for m in mail.outbox)


@pytest.mark.django_db
def test_nobody_to_tell_leaves_the_reminder_for_a_later_run(core_request, crew):
    """Without any address the reminder is not recorded as sent, so it is tried again."""
    User.objects.filter(username__in=["kim", "kai", "lo"]).update(email="")
    core_request.due_date = TODAY
    core_request.save(update_fields=["due_date"])
    assert _reminders().due_soon == 0
    assert not Notice.objects.exists()
    User.objects.filter(username="kim").update(email="kim@kommun.example")
    assert _reminders().due_soon == 1


@pytest.mark.django_db
def test_failed_sending_records_nothing(core_request, crew, settings, monkeypatch):
    """When the mail server fails, no reminder is marked sent and the run reports the error."""
    core_request.due_date = TODAY
    core_request.save(update_fields=["due_date"])

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(notifications, "send_mail", broken)
    with pytest.raises(OSError):
        _reminders()
    assert not Notice.objects.exists()
    assert not _events(Kind.NOTICE_SENT).exists()


@pytest.mark.django_db
def test_overdue_marker(core_request):
    """Open and past its due date is overdue; due today is not."""
    core_request.due_date = TODAY
    assert not assignment.request_is_overdue(core_request, today=TODAY)
    assert assignment.request_is_overdue(core_request, today=TODAY + timedelta(days=1))
    core_request.status = "decided"
    assert not assignment.request_is_overdue(core_request, today=TODAY + timedelta(days=1))


@pytest.mark.django_db
def test_send_reminders_command(core_request, crew):
    """The management command runs the reminders and says what it sent."""
    from io import StringIO

    core_request.due_date = TODAY - timedelta(days=1)
    core_request.save(update_fields=["due_date"])
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
    core_request, crew, django_capture_on_commit_callbacks
):
    """After a return and a supplement, the new material version is announced to the returner."""
    decide(core_request, crew["kai"], outcome="returned", motivation="Underlag saknas.")
    with django_capture_on_commit_callbacks(execute=True):
        new_request = core_compile(core_request.case)
    assert new_request.material.version == 2
    [message] = mail.outbox
    assert message.to == ["kai@kommun.example"]
    assert core_request.case.external_ref in message.body
    assert Notice.objects.get(kind=Notice.Kind.NEW_MATERIAL).request == new_request


@pytest.mark.django_db
def test_first_material_sends_no_supplement_notice(core_request, crew):
    """Version 1 is ordinary intake: nobody is told about a supplement."""
    assert not Notice.objects.filter(kind=Notice.Kind.NEW_MATERIAL).exists()


@pytest.mark.django_db
def test_second_signature_notice_skips_the_first_signer(
    core_request, crew, django_capture_on_commit_callbacks
):
    """The unit is asked for a second signature; the first signer is not asked."""
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_second_signature_needed(core_request, first_signer=crew["kim"])
    assert sorted(m.to[0] for m in mail.outbox) == [
        "kai@kommun.example",
        "lo@kommun.example",
    ]
