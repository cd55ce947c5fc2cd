"""The inbox page: tabs, filters, pagination, claiming, roles, and a constant number of queries."""

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals import services
from approvals.models import ApprovalRequest
from approvals.services import assignment
from municipality.models import SecondSignerRule, Staff
from tests.approvals.inbox_helpers import clone_requests
from tests.core_process.process import core_spec
from tests.gate_helpers import decide, verify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]

NBSP = "\xa0"


def _rows(response) -> list[str]:
    """The case references listed in the inbox table, in order."""
    body = response.content.decode()
    if '<table class="inbox">' not in body:
        return []
    table = body.split('<table class="inbox">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/cases/\d+/">([^<]+)</a>', table)


def _get(client, user, **params):
    client.force_login(user)
    return client.get("/", params)


# --- what each tab shows -----------------------------------------------------------------


def test_unit_queue_lists_the_open_request_in_swedish(client, open_request, people):
    """Anna holds nothing, so she lands on the unit queue: reference, amount, deviations."""
    response = _get(client, people["anna"])
    assert response.status_code == 200
    assert response.context["tab"] == "unassigned"
    assert _rows(response) == [open_request.case.external_ref]
    html = response.content.decode()
    assert f"4{NBSP}285{NBSP}kr" in html
    assert f"{len(open_request.material.flags)} avvikelse" in html
    assert "Enhetens kö" in html and 'aria-current="page"' in html
    assert open_request.due_date.isoformat() in html


def test_claimed_request_moves_to_my_cases(client, open_request, people):
    """After claiming, the request is in Anna's tab and no longer in the queue."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    mine = _get(client, people["anna"])
    assert mine.context["tab"] == "mine"
    assert _rows(mine) == [open_request.case.external_ref]
    assert _rows(_get(client, people["anna"], tab="unassigned")) == []
    # Erik sees it neither in his cases nor in the queue.
    assert _rows(_get(client, people["erik"], tab="mine")) == []
    assert _rows(_get(client, people["erik"], tab="unassigned")) == []


def test_overdue_request_is_marked(client, open_request, people):
    """A request past its due date carries a visible "Försenad" marker (not colour alone)."""
    ApprovalRequest.objects.filter(pk=open_request.pk).update(
        due_date=timezone.localdate() - timedelta(days=1)
    )
    html = _get(client, people["anna"]).content.decode()
    assert "Försenad" in html
    assert 'class="is-overdue"' in html
    assert "1 försenat" in html


def test_returned_tab_lists_cases_waiting_for_a_supplement(client, open_request, people):
    """A case returned for completion is listed with what is missing."""
    decision = decide(
        open_request, people["erik"], outcome="returned", motivation="Hyresavi saknas"
    )
    verify(decision)
    services.decision_execute(decision_id=decision.pk, document_context={})
    response = _get(client, people["anna"], tab="returned")
    assert _rows(response) == [open_request.case.external_ref]
    assert "Hyresavi saknas" in response.content.decode()


def test_second_signature_tab(client, open_request, people):
    """A decision waiting for a second signature is listed for the other delegates."""
    SecondSignerRule.objects.create(
        unit=open_request.unit,
        decision_type=open_request.decision_type,
        valid_from=date(2026, 1, 1),
    )
    decide(open_request, people["anna"])
    response = _get(client, people["erik"], tab="second")
    assert response.context["counts"]["second"] == 1
    assert _rows(response) == [open_request.case.external_ref]
    assert "Anna Lind" in response.content.decode()


def test_decided_tab_lists_recent_decisions(client, open_request, people):
    """A signed decision shows with its outcome and signer under "Nyligen beslutade"."""
    decide(open_request, people["anna"])
    response = _get(client, people["erik"], tab="decided")
    assert _rows(response) == [open_request.case.external_ref]
    html = response.content.decode()
    assert "Bifall" in html and "Anna Lind" in html


# --- filters, sorting, pagination --------------------------------------------------------


def test_filters_narrow_the_list(client, open_request, people, register_process):
    """Deviations, overdue, process, period and due date each narrow the queue."""
    today = timezone.localdate()
    register_process(
        core_spec(
            slug="forsorjningsstod-akut", name="Akut bistånd", unit_code=open_request.unit.code
        )
    )
    clone_requests(open_request, 2, prefix="noflags", flags=[])
    clone_requests(open_request, 1, prefix="late", due_date=today - timedelta(days=3))
    clone_requests(open_request, 1, prefix="akut", process="forsorjningsstod-akut")
    clone_requests(open_request, 1, prefix="feb", period="2026-02")
    anna = people["anna"]
    everything = _rows(_get(client, anna, tab="unassigned"))
    assert len(everything) == 6
    with_flags = _rows(_get(client, anna, tab="unassigned", flags="deviations"))
    assert len(with_flags) == 4 and not any(r.startswith("noflags") for r in with_flags)
    assert [r[:4] for r in _rows(_get(client, anna, tab="unassigned", flags="overdue"))] == ["late"]
    akut = _rows(_get(client, anna, tab="unassigned", process="forsorjningsstod-akut"))
    assert [r[:4] for r in akut] == ["akut"]
    assert [r[:3] for r in _rows(_get(client, anna, tab="unassigned", period="2026-02"))] == ["feb"]
    due_by = (today - timedelta(days=1)).isoformat()
    assert len(_rows(_get(client, anna, tab="unassigned", due_by=due_by))) == 1


def test_due_date_is_the_default_sort(client, open_request, people):
    """Soonest due first; "newest" and "amount" reorder."""
    today = timezone.localdate()
    clone_requests(open_request, 1, prefix="later", due_date=today + timedelta(days=30))
    clone_requests(open_request, 1, prefix="sooner", due_date=today - timedelta(days=1))
    clone_requests(open_request, 1, prefix="big", proposed_amount=99_999)
    anna = people["anna"]
    rows = _rows(_get(client, anna, tab="unassigned"))
    assert rows[0].startswith("sooner") and rows[-1].startswith("later")
    assert _rows(_get(client, anna, tab="unassigned", sort="amount"))[0].startswith("big")


def test_invalid_filter_is_reported_and_ignored(client, open_request, people):
    """A malformed period is shown as an error and does not empty the list."""
    response = _get(client, people["anna"], tab="unassigned", period="mars")
    assert response.status_code == 200
    assert "Skriv perioden som ÅÅÅÅ-MM." in response.content.decode()
    assert _rows(response) == [open_request.case.external_ref]


def test_pages_of_fifty(client, open_request, people):
    """Sixty requests make two pages: fifty and ten, filters kept in the page links."""
    clone_requests(open_request, 59)
    anna = people["anna"]
    first = _get(client, anna, tab="unassigned", flags="deviations")
    assert len(_rows(first)) == 50
    html = first.content.decode()
    assert "Visar 1–50 av 60" in html
    assert "page=2" in html and "flags=deviations" in html
    second = _get(client, anna, tab="unassigned", flags="deviations", page=2)
    assert len(_rows(second)) == 10
    assert "Visar 51–60 av 60" in second.content.decode()


# --- speed -------------------------------------------------------------------------------


def _queries(client, user, **params) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/", params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("tab", ["unassigned", "mine", "returned", "second", "decided"])
def test_inbox_queries_do_not_grow_with_the_number_of_cases(client, open_request, people, tab):
    """3 or 60 requests: the same, small number of queries (no query per row)."""
    anna = people["anna"]
    clone_requests(open_request, 2, prefix="few")
    if tab == "mine":
        ApprovalRequest.objects.update(assigned_to=anna)
    few = _queries(client, anna, tab=tab)
    clone_requests(open_request, 57, prefix="many", assigned_to=anna if tab == "mine" else None)
    many = _queries(client, anna, tab=tab)
    assert few == many
    assert many <= 10, many


def test_filtered_inbox_queries_do_not_grow(client, open_request, people):
    """With filters on, the page counts its own rows: still constant."""
    anna = people["anna"]
    params = {"tab": "unassigned", "flags": "deviations", "period": "2026-03"}
    clone_requests(open_request, 2, prefix="few")
    few = _queries(client, anna, **params)
    clone_requests(open_request, 57, prefix="many")
    assert _queries(client, anna, **params) == few


# --- roles -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["greta", "olle"])
def test_people_outside_the_unit_see_an_empty_inbox(client, open_request, people, who):
    """The auditor and another unit's caseworker see no request of this unit."""
    for tab in ("mine", "unassigned", "returned", "second", "decided"):
        assert _rows(_get(client, people[who], tab=tab)) == []


def test_superuser_without_grants_sees_nothing(client, open_request, people):
    """A superuser flag shows nothing: the inbox reads grants, not flags."""
    boss = User.objects.create_superuser("boss", password="x")
    Staff.objects.create(user=boss, unit=open_request.unit, role=Staff.Role.CASEWORKER)
    assert _rows(_get(client, boss, tab="unassigned")) == []


def test_inbox_needs_login(client):
    """Anonymous visitors are sent to the login page."""
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- claim, release, reassign through the pages ------------------------------------------


def test_claim_button_in_the_queue(client, open_request, people):
    """Claiming from the queue returns to the queue with a confirmation."""
    client.force_login(people["anna"])
    response = client.post(
        f"/requests/{open_request.pk}/claim/", {"next": "/?tab=unassigned"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/?tab=unassigned"
    assert "Ärendet är ditt" in response.content.decode()
    open_request.refresh_from_db()
    assert open_request.assigned_to == people["anna"]


def test_claim_redirect_stays_on_this_site(client, open_request, people):
    """A foreign `next` is ignored: back to the case page instead."""
    client.force_login(people["anna"])
    response = client.post(f"/requests/{open_request.pk}/claim/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/cases/{open_request.case_id}/"


def test_claiming_a_held_request_shows_why_not(client, open_request, people):
    """Erik is told the case is claimed; nothing changes."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    client.force_login(people["erik"])
    response = client.post(f"/requests/{open_request.pk}/claim/", follow=True)
    assert "Ärendet är taget av en annan handläggare." in response.content.decode()
    open_request.refresh_from_db()
    assert open_request.assigned_to == people["anna"]


@pytest.mark.parametrize("action", ["claim", "unclaim", "reassign"])
def test_other_units_get_not_found(client, open_request, people, action):
    """Another unit's caseworker gets 404 for every action, exactly like a missing request."""
    client.force_login(people["olle"])
    assert client.post(f"/requests/{open_request.pk}/{action}/").status_code == 404
    assert client.post(f"/requests/{open_request.pk + 999}/{action}/").status_code == 404


def test_actions_need_post(client, open_request, people):
    """A GET never claims."""
    client.force_login(people["anna"])
    assert client.get(f"/requests/{open_request.pk}/claim/").status_code == 405


def test_team_leader_reassigns_from_the_case_page(client, open_request, people):
    """Maria gives the request to Erik through the form."""
    client.force_login(people["maria"])
    response = client.post(
        f"/requests/{open_request.pk}/reassign/", {"assignee": people["erik"].pk}, follow=True
    )
    assert "Ärendet har fördelats om." in response.content.decode()
    open_request.refresh_from_db()
    assert open_request.assigned_to == people["erik"]


def test_caseworker_cannot_reassign_through_the_page(client, open_request, people):
    """Anna's reassign attempt is refused with the reason."""
    client.force_login(people["anna"])
    response = client.post(
        f"/requests/{open_request.pk}/reassign/", {"assignee": people["erik"].pk}, follow=True
    )
    assert "Bara en gruppledare på enheten kan fördela om ärenden." in response.content.decode()
    open_request.refresh_from_db()
    assert open_request.assigned_to is None


def test_reassign_to_an_unknown_person_is_refused(client, open_request, people):
    """Only colleagues listed in the form can be chosen."""
    client.force_login(people["maria"])
    response = client.post(
        f"/requests/{open_request.pk}/reassign/", {"assignee": people["olle"].pk}, follow=True
    )
    assert "Välj en kollega i listan." in response.content.decode()
    open_request.refresh_from_db()
    assert open_request.assigned_to is None


def test_request_granted_to_a_person_directly_is_listed(client, open_request, people):
    """A direct grant to one caseworker shows the request to her, not to the unit."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm, remove_perm

    group = Group.objects.get(name=f"unit:{open_request.unit.code}")
    remove_perm("approvals.view_approvalrequest", group, open_request)
    assert _rows(_get(client, people["anna"], tab="unassigned")) == []
    assign_perm("approvals.view_approvalrequest", people["anna"], open_request)
    assert _rows(_get(client, people["anna"], tab="unassigned")) == [open_request.case.external_ref]
    assert _get(client, people["anna"]).context["counts"]["unassigned"] == 1
    assert _rows(_get(client, people["erik"], tab="unassigned")) == []
