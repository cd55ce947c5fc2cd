"""The nightly run against the SIP2 simulator over TCP: renewals, exceptions, notices, re-runs."""

import pytest

from approvals.audit import Kind
from approvals.models import ApprovalRequest, AuditEvent, Case, Decision
from flows.bibliotek_aterlan import hooks, steps
from flows.bibliotek_aterlan.config import LibraryConfigError
from flows.bibliotek_aterlan.models import LoanRenewal
from flows.bibliotek_aterlan.process import SLUG

from .night_helpers import (
    EXCEPTION_REASONS,
    PATRONS_WITH_LOANS_DUE,
    RENEWED_ITEMS,
    night,
)

pytestmark = pytest.mark.django_db


def test_night_renews_what_the_library_allows_and_queues_the_rest(org, library, fast_pdf):
    """Five loans are renewed over SIP2 as the robot's act; the four refused ones become
    exception cases waiting in the library's queue with their reason; the night case
    completes without a person and no Decision exists."""
    result = steps.night_run(today=night())

    assert set(library.renewed) == RENEWED_ITEMS
    assert result["renewals"]["renewed"] == 5 and result["renewals"]["exception"] == 4
    rows = {r.item_id: r for r in LoanRenewal.objects.all()}
    assert {i for i, r in rows.items() if r.status == "renewed"} == RENEWED_ITEMS
    assert all(rows[i].new_due_date > rows[i].due_date for i in RENEWED_ITEMS)
    assert {i: r.reason for i, r in rows.items() if r.status == "exception"} == EXCEPTION_REASONS

    night_case = Case.objects.get(pk=result["night_case_id"])
    assert night_case.external_ref == f"aterlan-{night().isoformat()}"
    assert night_case.status == Case.Status.COMPLETED
    assert night_case.received_by.staff.kind == "robot"
    assert AuditEvent.objects.filter(case=night_case, kind=Kind.CASE_COMPLETED_BY_ROBOT).exists()
    renew_step = AuditEvent.objects.get(case=night_case, kind=Kind.ROBOT_STEP, data__step="renew")
    assert renew_step.data["outputs"]["renewed"] == 5

    exceptions = Case.objects.filter(process=SLUG, data__kind="loan")
    assert exceptions.count() == 4
    for case in exceptions:
        item = rows[case.data["item_id"]]
        assert case.external_ref == f"aterlan-{night().isoformat()}-{item.item_id}"
        assert case.status == Case.Status.AWAITING_PERSON
        assert case.unit.code == "kultur-bibliotek"
        request = case.requests.get()
        assert (request.kind, request.status) == (ApprovalRequest.Kind.EXCEPTION, "open")
        material = case.materials.get()
        assert item.title in material.html and item.item_id in material.html
        assert steps.REASON_LABEL_SV[item.reason] in material.html
        assert case.parties.count() == 0  # card numbers identify nobody
    blocked = rows["3900000000073"]
    assert (
        "Obetalda avgifter" in blocked.screen_message or "spärr" in blocked.screen_message.lower()
    )
    assert not Decision.objects.filter(request__case__process=SLUG).exists()


def test_a_rerun_the_same_night_renews_nothing_twice(org, library, fast_pdf, mailoutbox):
    """A second run finds every loan already handled: no Renew is sent, no case, no e-mail."""
    first = steps.night_run(today=night())
    renew_frames = sum(1 for code, _ in library.received if code == "29")
    cases, mails = Case.objects.filter(process=SLUG).count(), len(mailoutbox)

    second = steps.night_run(today=night())

    assert second["night_case_id"] == first["night_case_id"]
    assert second["renewals"] == {"due": 9, "already_handled": 9}
    assert sum(1 for code, _ in library.received if code == "29") == renew_frames == 9
    assert len(library.renewed) == 5
    assert Case.objects.filter(process=SLUG).count() == cases == 5
    assert len(mailoutbox) == mails
    assert LoanRenewal.objects.count() == 9


def test_a_loan_left_to_run_out_is_not_tried_again_the_next_night(org, library, settings, fast_pdf):
    """The loan state (patron, item, due date) is handled once: tomorrow's export still lists
    the four refused loans as due, yet they get no second Renew and no second case; the
    renewed ones are due only weeks later."""
    import datetime as dt
    from pathlib import Path

    steps.night_run(today=night())
    Path(settings.LIBRARY_LOANS_EXPORT).write_text(library.library.export_csv(), "utf-8")
    renew_frames = sum(1 for code, _ in library.received if code == "29")

    tomorrow = steps.night_run(today=night() + dt.timedelta(days=1))

    assert tomorrow["renewals"] == {"due": 4, "already_handled": 4}
    assert tomorrow["exceptions"]["opened"] == 0
    assert sum(1 for code, _ in library.received if code == "29") == renew_frames
    assert Case.objects.filter(process=SLUG, data__kind="night").count() == 2


def test_patrons_get_one_notice_each_at_once(org, library, fast_pdf, mailoutbox):
    """One e-mail per patron with a loan due, renewed and refused alike, right after the run."""
    steps.night_run(today=night())
    assert len(mailoutbox) == PATRONS_WITH_LOANS_DUE
    by_to = {m.to[0]: m for m in mailoutbox}
    astrid = by_to["astrid.testsson@example.org"]  # one renewed, one reserved by another
    assert "ny återlämningsdag" in astrid.body
    assert "en annan låntagare har reserverat den" in astrid.body
    david = by_to["david.demosson@example.org"]
    assert david.subject == "Ditt lån kunde inte lånas om"
    assert "lånekort är spärrat" in david.body
    assert LoanRenewal.objects.filter(notice_sent_at__isnull=True).count() == 0


def test_without_a_configured_host_the_bundled_simulator_is_started(
    org, settings, monkeypatch, fast_pdf
):
    """No LIBRARY_SIP2_HOST (the demo): the run starts the simulator on a free port itself."""
    monkeypatch.delenv("LIBRARY_SIP2_HOST", raising=False)
    settings.LIBRARY_SIP2_HOST = None
    result = steps.night_run(today=night())
    assert result["renewals"]["renewed"] == 5
    step = AuditEvent.objects.get(case_id=result["night_case_id"], data__step="renew")
    assert step.data["inputs"]["simulated_library"] is True


def test_an_incomplete_library_configuration_is_a_clear_error(org, settings, monkeypatch):
    """A host without port, account or loans source is refused, naming what is missing."""
    settings.LIBRARY_SIP2_HOST = "127.0.0.1"
    for name in ("LIBRARY_SIP2_PORT", "LIBRARY_SIP2_LOGIN_PASSWORD", "LIBRARY_LOANS_EXPORT"):
        monkeypatch.delenv(name, raising=False)
        setattr(settings, name, None)
    night_case_id = steps.night_open(today=night(), flow_run_id=None)
    with pytest.raises(LibraryConfigError, match="LIBRARY_SIP2_PORT"):
        steps.renewals_perform(night_case_id=night_case_id, today=night(), flow_run_id=None)
    assert not LoanRenewal.objects.exists()


def test_automation_rate_counts_loans_renewed_without_a_person(org, library, fast_pdf):
    """The operators' figure: nine loans handled, five of them by the robot alone."""
    import datetime as dt

    from django.utils import timezone

    steps.night_run(today=night())
    since = timezone.now() - dt.timedelta(days=1)
    assert hooks.automation(since=since) == {"handled": 9, "automatic": 5}
    assert hooks.automation(since=timezone.now() + dt.timedelta(seconds=1)) == {
        "handled": 0,
        "automatic": 0,
    }


def test_a_card_number_that_is_a_personnummer_makes_the_patron_a_party():
    """Libraries that use the personnummer as card number: the patron is the case's party."""
    assert hooks.parties(payload={"patron_id": "2600100004"}) == []
    assert hooks.parties(payload={"kind": "night"}) == []
    assert hooks.parties(payload={"patron_id": "19121212-1212", "patron_name": "Tolvan"}) == [
        ("191212121212", "patron", "Tolvan")
    ]


def test_a_loan_claimed_by_a_run_that_stopped_goes_to_a_librarian(org, library, settings, fast_pdf):
    """A claim without an outcome (the run died between claim and answer) is not renewed
    blindly again: it becomes an exception saying the library system must be checked."""
    import datetime as dt

    from django.utils import timezone

    night_case_id = steps.night_open(today=night(), flow_run_id=None)
    export = {r.item_id: r for r in steps.loans_export_read(settings.LIBRARY_LOANS_EXPORT)}
    loan = export["3900000000011"]
    LoanRenewal.objects.create(
        night=night(),
        night_case_id=night_case_id,
        patron_id=loan.patron_id,
        item_id=loan.item_id,
        title=loan.title,
        due_date=loan.due_date,
        created_at=timezone.now() - dt.timedelta(hours=1),
    )

    result = steps.night_run(today=night())

    assert "3900000000011" not in library.renewed
    assert result["renewals"]["interrupted_earlier"] == 1
    assert result["renewals"]["already_handled"] == 1
    row = LoanRenewal.objects.get(item_id="3900000000011")
    assert (row.status, row.reason) == ("exception", "error")
    case = row.exception_case
    assert case.status == Case.Status.AWAITING_PERSON
    assert "check the loan there" in case.materials.get().html


def test_the_exception_material_is_a_real_pdf_naming_the_loan_and_the_reason(org, library):
    """WeasyPrint's PDF of the material, read back: the title, the item and the reason."""
    from approvals.printing import pdf_text

    steps.night_run(today=night())
    row = LoanRenewal.objects.get(item_id="3900000000073")
    text = " ".join(pdf_text(bytes(row.exception_case.materials.get().pdf)).split())
    assert row.title in text and row.item_id in text
    assert "Lånekortet är spärrat" in text
