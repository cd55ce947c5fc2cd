"""Issue 9, points 10-16 and 18: the tools a caseworker uses daily (server side)."""

from datetime import date

import pytest
from django.db import DatabaseError, transaction

from approvals.audit import Kind
from approvals.models import (
    ApprovalRequest,
    AuditEvent,
    CaseNote,
    CosignatureDecline,
    Decision,
)
from approvals.services import assignment, notes
from approvals.services.signing import cosignature_decline, request_current
from municipality.models import SecondSignerRule
from tests.gate_helpers import carry_out, decide, login_fresh, material_open

from .inbox_helpers import clone_requests

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]

NBSP = "\xa0"


def _get(client, user, url, status=200):
    login_fresh(client, user)
    response = client.get(url, follow=False)
    assert response.status_code == status, response.status_code
    return response.content.decode() if status == 200 else response


# --- 10. names and search ------------------------------------------------------------------


def test_inbox_shows_the_applicants_name(client, open_request, people):
    """The unit queue lists each case with its applicant's name."""
    html = _get(client, people["anna"], "/?tab=unassigned")
    assert '<td data-testid="applicant">Sara Lind</td>' in html


@pytest.mark.parametrize(
    "q", ["19910701-2388", "199107012388", "9107012388", "910701-2388", "sara lind", "000101"]
)
def test_search_finds_by_name_personnummer_or_reference(client, open_request, people, q):
    """Any written form of the personnummer, the name or the reference finds the case,
    and both the search and the hit shown are logged."""
    html = _get(client, people["erik"], f"/search/?q={q}")
    assert html.count('data-testid="search-hit"') == 1
    assert open_request.case.external_ref in html and "Sara Lind" in html
    search = AuditEvent.objects.get(kind=Kind.CASES_SEARCHED, actor=people["erik"])
    assert search.data["hits"] == [open_request.case_id]
    assert AuditEvent.objects.filter(
        kind=Kind.CASE_VIEWED,
        actor=people["erik"],
        case=open_request.case,
        data__what="search_hit",
    ).exists()


def test_search_stays_within_the_users_unit(client, open_request, people):
    """A caseworker of another unit finds nothing, even by the exact personnummer."""
    html = _get(client, people["olle"], "/search/?q=199107012388")
    assert 'data-testid="search-hit"' not in html
    assert not AuditEvent.objects.filter(kind=Kind.CASE_VIEWED, actor=people["olle"]).exists()


def test_auditor_searches_every_case_on_the_audit_pages(client, open_request, people):
    """The auditor's search finds the case and links to its audit trail; a caseworker is refused."""
    html = _get(client, people["greta"], "/audit/search/?q=Sara")
    assert f'href="/audit/cases/{open_request.case_id}/"' in html
    hit = AuditEvent.objects.get(kind=Kind.CASE_VIEWED, actor=people["greta"])
    assert hit.data["purpose"] == "audit"
    _get(client, people["anna"], "/audit/search/?q=Sara", status=403)


# --- 11. journal notes ---------------------------------------------------------------------


def test_a_note_is_a_locked_record_with_addenda(client, open_request, people):
    """A note is saved with date and author, shown in the history and the auditor's pages,
    cannot be changed in the database, and is corrected by an addendum."""
    login_fresh(client, people["anna"])
    response = client.post(f"/cases/{open_request.case_id}/notes/", {"text": "Ringde sökande."})
    assert response.status_code == 302
    note = CaseNote.objects.get()
    assert (note.author, note.author_name) == (people["anna"], "Anna Lind")
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseNote.objects.filter(pk=note.pk).update(text="ändrad")
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseNote.objects.filter(pk=note.pk).delete()
    client.post(
        f"/cases/{open_request.case_id}/notes/",
        {"text": "Rättelse: ringde på tisdagen.", "refers_to": note.pk},
    )
    addendum = CaseNote.objects.exclude(pk=note.pk).get()
    assert addendum.refers_to == note
    html = _get(client, people["anna"], f"/cases/{open_request.case_id}/")
    assert "Journalanteckning" in html and "Ringde sökande." in html
    assert "tillägg till en tidigare anteckning" in html
    audit = _get(client, people["greta"], f"/audit/cases/{open_request.case_id}/")
    assert audit.count('data-testid="audit-note"') == 2
    export = client.get(f"/audit/cases/{open_request.case_id}/export.json").json()
    assert [n["text"] for n in export["notes"]] == [
        "Ringde sökande.",
        "Rättelse: ringde på tisdagen.",
    ]


def test_notes_only_by_the_units_caseworkers(open_request, people):
    """An auditor, or a caseworker of another unit, cannot write a note."""
    for who in ("greta", "olle"):
        with pytest.raises(notes.NoteRefused) as refused:
            notes.note_write(case_id=open_request.case_id, user=people[who], text="x")
        assert refused.value.code == notes.NOTE_NO_ACCESS


# --- 12. team view -------------------------------------------------------------------------


def test_team_leader_sees_every_open_case_and_each_load(client, open_request, people):
    """The team view lists the unit's open cases with holders and per-person load; a case
    the leader reassigns stays in the list with its new holder."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    overdue = clone_requests(open_request, 2, due_date=date(2020, 1, 1))
    html = _get(client, people["maria"], "/team/")
    assert html.count('data-testid="team-row"') == 3
    assert "Anna Lind" in html
    response = client.post(
        f"/requests/{open_request.pk}/reassign/",
        {"assignee": people["erik"].pk, "next": "/team/"},
    )
    assert response.status_code == 302 and response["Location"] == "/team/"
    html = _get(client, people["maria"], "/team/")
    assert html.count('data-testid="team-row"') == 3
    row = html[html.index(f'data-case="{open_request.case.external_ref}"') :]
    assert '<td data-testid="holder">Erik Berg</td>' in row[: row.index("</tr>")]
    queue = html[html.index("Ingen (enhetens kö)") :]
    assert '<span class="badge overdue">2</span>' in queue[: queue.index("</tr>")]
    assert len(overdue) == 2
    _get(client, people["anna"], "/team/", status=404)


# --- 13. next case -------------------------------------------------------------------------


def test_next_case_opens_the_next_in_the_caseworkers_order(client, open_request, people):
    """After a decision "Nästa ärende" opens the caseworker's next own case, else the queue's."""
    [mine] = clone_requests(open_request, 1, prefix="mine", assigned_to=people["anna"])
    [queued] = clone_requests(open_request, 1, prefix="queued")
    decide(open_request, people["anna"])
    html = _get(client, people["anna"], f"/cases/{open_request.case_id}/")
    assert 'data-testid="next-case"' in html
    response = client.get(f"/next/?after={open_request.case_id}")
    assert response["Location"] == f"/cases/{mine.case_id}/"
    ApprovalRequest.objects.filter(pk=mine.pk).update(status=ApprovalRequest.Status.SUPERSEDED)
    assert client.get(f"/next/?after={open_request.case_id}")["Location"] == (
        f"/cases/{queued.case_id}/"
    )


# --- 14. the second signer disagrees -------------------------------------------------------


@pytest.fixture
def second_signature(open_request, people):
    SecondSignerRule.objects.create(
        unit=open_request.unit,
        decision_type=open_request.decision_type,
        valid_from=date(2026, 1, 1),
    )
    decide(open_request, people["anna"])
    open_request.refresh_from_db()
    assert open_request.status == ApprovalRequest.Status.AWAITING_SECOND
    return open_request


def test_second_signer_declines_and_the_first_signer_decides_again(
    client, second_signature, people
):
    """Declining with a reason keeps the first decision, reopens the material for the first
    signer as a new request, shows the reason, and the gate accepts a new decision on it."""
    login_fresh(client, people["maria"])
    material_open(people["maria"], second_signature)
    response = client.post(
        f"/requests/{second_signature.pk}/decline-cosign/",
        {"reason": "Hyran ska prövas mot skälig nivå."},
    )
    assert response.status_code == 302
    second_signature.refresh_from_db()
    assert second_signature.status == ApprovalRequest.Status.SUPERSEDED
    decline = CosignatureDecline.objects.get()
    assert Decision.objects.filter(pk=decline.decision_id).exists()
    reopened = decline.reopened
    assert (reopened.status, reopened.assigned_to) == ("open", people["anna"])
    assert request_current(request_id=second_signature.pk) == reopened.pk
    html = _get(client, people["anna"], f"/cases/{second_signature.case_id}/")
    assert "Hyran ska prövas mot skälig nivå." in html
    assert 'data-testid="cosignature-declined"' in html
    assert 'id="decide-h"' in html  # the first signer can decide again
    event = AuditEvent.objects.get(kind=Kind.COSIGNATURE_DECLINED)
    assert event.data["reason"] == "Hyran ska prövas mot skälig nivå."
    again = decide(reopened, people["anna"], outcome="refused", motivation="Omprövat.")
    assert again.request_id == reopened.pk and Decision.objects.count() == 2


def test_decline_needs_a_reason_and_another_delegate(client, second_signature, people):
    """No reason: refused with the form kept; the first signer cannot decline their own."""
    login_fresh(client, people["maria"])
    response = client.post(f"/requests/{second_signature.pk}/decline-cosign/", {"reason": " "})
    assert response.status_code == 400
    assert "Skriv varför du inte skriver under." in response.content.decode()
    from approvals.services import GateRefused

    with pytest.raises(GateRefused):
        cosignature_decline(request_id=second_signature.pk, user=people["anna"], reason="nej")
    assert not CosignatureDecline.objects.exists()


# --- 15. nothing typed is lost -------------------------------------------------------------


def test_over_the_limit_keeps_the_form_names_the_limit_and_hands_over(client, open_request, people):
    """Over the delegation limit: the page comes back (no redirect) with what was typed, the
    limit named, the error focused, and one click sends it to a colleague who may sign."""
    login_fresh(client, people["anna"])
    material_open(people["anna"], open_request)
    response = client.post(
        f"/requests/{open_request.pk}/decide/",
        {
            "material_sha256": open_request.material.sha256,
            "outcome": "partly_approved",
            "amount": "16000",
            "motivation": "Särskilda skäl: tandvård.",
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert f"Din delegation räcker till 15{NBSP}000{NBSP}kr" in html
    assert "Särskilda skäl: tandvård." in html and 'value="16000"' in html
    assert 'id="gate-problem" tabindex="-1" autofocus data-focus-on-load' in html
    assert "Skicka till Maria Holm" in html and "Skicka till Erik Berg" not in html
    response = client.post(
        f"/requests/{open_request.pk}/hand-over/", {"to": people["maria"].pk, "amount": 16000}
    )
    open_request.refresh_from_db()
    assert open_request.assigned_to == people["maria"]
    assert AuditEvent.objects.filter(kind=Kind.REQUEST_HANDED_OVER).exists()


def test_claimed_by_a_colleague_names_them_and_keeps_the_text(client, open_request, people):
    login_fresh(client, people["anna"])
    material_open(people["anna"], open_request)
    assignment.request_claim(request_id=open_request.pk, user=people["erik"])
    response = client.post(
        f"/requests/{open_request.pk}/decide/",
        {
            "material_sha256": open_request.material.sha256,
            "outcome": "refused",
            "motivation": "Inkomsterna täcker.",
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Erik Berg har tagit ärendet" in html and "Inkomsterna täcker." in html
    assert not Decision.objects.exists()


# --- 16. honest statuses and words ---------------------------------------------------------


def test_status_after_signing_until_the_letter_exists(client, open_request, people):
    """Signed: "Beslutat – brevet skrivs"; letter written: "Beslutat"; history in words."""
    decision = decide(open_request, people["anna"])
    html = _get(client, people["anna"], f"/cases/{open_request.case_id}/")
    assert '<dd data-testid="case-status">Beslutat – brevet skrivs</dd>' in html
    assert "Roboten hämtade registeruppgifter" in html
    carry_out(decision)
    html = _get(client, people["anna"], f"/cases/{open_request.case_id}/")
    assert '<dd data-testid="case-status">Beslutat</dd>' in html
    history = html[html.index('id="history-h"') :]
    for raw in ("system:", "robot:", "integration:", "gather-register-data"):
        assert raw not in history, raw
    audit = _get(client, people["greta"], f"/audit/cases/{open_request.case_id}/")
    events = audit[audit.index('id="events-h"') :]
    assert "{&#x27;" not in events and "Roboten hämtade registeruppgifter" in events


def test_status_with_a_second_signature_pending(client, second_signature, people):
    html = _get(client, people["anna"], f"/cases/{second_signature.case_id}/")
    assert "Undertecknat – väntar på andra underskrift" in html


# --- 18. land where you work ---------------------------------------------------------------


@pytest.mark.parametrize(
    "username, target", [("greta", "/audit/"), ("otto", "/operations/"), ("anna", "/")]
)
def test_login_lands_where_the_user_works(client, people, username, target):
    login_fresh(client, people[username])
    assert client.get("/start/")["Location"] == target


def test_login_form_sends_to_the_landing(client, people):
    people["greta"].set_password("pw-for-test-1")
    people["greta"].save()
    response = client.post("/accounts/login/", {"username": "greta", "password": "pw-for-test-1"})
    assert response["Location"] == "/start/"
