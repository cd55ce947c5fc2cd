"""The inbox page with the test-only process: tabs, filters, pagination, claiming, roles,
and a constant number of queries. Bistånd's version: tests/flows/ekonomiskt_bistand/."""

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
from tests.core_process.process import core_spec
from tests.gate_helpers import decide, verify

from .core_helpers import core_compile, core_open
from .inbox_helpers import clone_requests

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]

NBSP = "\xa0"


FLAG = {"code": "core.check", "severity": "warning", "text": "Testavvikelse", "origin": "test"}


@pytest.fixture
def core_request(core_org):
    """The test process's request, its material with one deviation (the inbox counts them)."""
    return core_compile(core_open(core_org), flags=[FLAG])


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


def test_unit_queue_lists_the_open_request_in_swedish(client, core_request, crew):
    """Kim holds nothing, so lands on the unit queue: reference, summary, deviations."""
    response = _get(client, crew["kim"])
    assert response.status_code == 200
    assert response.context["tab"] == "unassigned"
    assert _rows(response) == [core_request.case.external_ref]
    html = response.content.decode()
    # The row's summary cell is the process's own template (no amount column of the core's).
    assert '<span data-testid="core-summary">4000 kr</span>' in html
    assert f"{len(core_request.material.flags)} avvikelse" in html
    assert "Enhetens kö" in html and 'aria-current="page"' in html
    assert core_request.due_date.isoformat() in html


def test_claimed_request_moves_to_my_cases(client, core_request, crew):
    """After claiming, the request is in Kim's tab and no longer in the queue."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    mine = _get(client, crew["kim"])
    assert mine.context["tab"] == "mine"
    assert _rows(mine) == [core_request.case.external_ref]
    assert _rows(_get(client, crew["kim"], tab="unassigned")) == []
    # Kai sees it neither in his cases nor in the queue.
    assert _rows(_get(client, crew["kai"], tab="mine")) == []
    assert _rows(_get(client, crew["kai"], tab="unassigned")) == []


def test_overdue_request_is_marked(client, core_request, crew):
    """A request past its due date carries a visible "Försenad" marker (not colour alone)."""
    ApprovalRequest.objects.filter(pk=core_request.pk).update(
        due_date=timezone.localdate() - timedelta(days=1)
    )
    html = _get(client, crew["kim"]).content.decode()
    assert "Försenad" in html
    assert 'class="is-overdue"' in html
    assert "1 försenat" in html


def test_returned_tab_lists_cases_waiting_for_a_supplement(client, core_request, crew):
    """A case returned for completion is listed with what is missing."""
    decision = decide(core_request, crew["kai"], outcome="returned", motivation="Hyresavi saknas")
    verify(decision)
    services.decision_execute(decision_id=decision.pk, document_context={})
    response = _get(client, crew["kim"], tab="returned")
    assert _rows(response) == [core_request.case.external_ref]
    assert "Hyresavi saknas" in response.content.decode()


def test_second_signature_tab(client, core_request, crew):
    """A decision waiting for a second signature is listed for the other delegates."""
    SecondSignerRule.objects.create(
        unit=core_request.unit,
        decision_type=core_request.decision_type,
        valid_from=date(2026, 1, 1),
    )
    decide(core_request, crew["kim"])
    response = _get(client, crew["kai"], tab="second")
    assert response.context["counts"]["second"] == 1
    assert _rows(response) == [core_request.case.external_ref]
    assert "Kim Kvist" in response.content.decode()


def test_decided_tab_lists_recent_decisions(client, core_request, crew):
    """A signed decision shows with its outcome and signer under "Nyligen beslutade"."""
    decide(core_request, crew["kim"])
    response = _get(client, crew["kai"], tab="decided")
    assert _rows(response) == [core_request.case.external_ref]
    html = response.content.decode()
    assert "Bifall" in html and "Kim Kvist" in html


# --- filters, sorting, pagination --------------------------------------------------------


def test_filters_narrow_the_list(client, core_request, crew, register_process):
    """Deviations, overdue, process, period and due date each narrow the queue."""
    today = timezone.localdate()
    register_process(
        core_spec(slug="core-test-akut", name="Akut testprocess", unit_code=core_request.unit.code)
    )
    clone_requests(core_request, 2, prefix="noflags", flags=[])
    clone_requests(core_request, 1, prefix="late", due_date=today - timedelta(days=3))
    clone_requests(core_request, 1, prefix="akut", process="core-test-akut")
    clone_requests(core_request, 1, prefix="feb", period="2026-02")
    kim = crew["kim"]
    everything = _rows(_get(client, kim, tab="unassigned"))
    assert len(everything) == 6
    with_flags = _rows(_get(client, kim, tab="unassigned", flags="deviations"))
    assert len(with_flags) == 4 and not any(r.startswith("noflags") for r in with_flags)
    assert [r[:4] for r in _rows(_get(client, kim, tab="unassigned", flags="overdue"))] == ["late"]
    akut = _rows(_get(client, kim, tab="unassigned", process="core-test-akut"))
    assert [r[:4] for r in akut] == ["akut"]
    assert [r[:3] for r in _rows(_get(client, kim, tab="unassigned", period="2026-02"))] == ["feb"]
    due_by = (today - timedelta(days=1)).isoformat()
    assert len(_rows(_get(client, kim, tab="unassigned", due_by=due_by))) == 1


def test_due_date_is_the_default_sort(client, core_request, crew):
    """Soonest due first; "newest" and "amount" reorder."""
    today = timezone.localdate()
    clone_requests(core_request, 1, prefix="later", due_date=today + timedelta(days=30))
    clone_requests(core_request, 1, prefix="sooner", due_date=today - timedelta(days=1))
    clone_requests(core_request, 1, prefix="big", proposed_amount=99_999)
    kim = crew["kim"]
    rows = _rows(_get(client, kim, tab="unassigned"))
    assert rows[0].startswith("sooner") and rows[-1].startswith("later")
    assert _rows(_get(client, kim, tab="unassigned", sort="amount"))[0].startswith("big")


def test_invalid_filter_is_reported_and_ignored(client, core_request, crew):
    """A malformed period is shown as an error and does not empty the list."""
    response = _get(client, crew["kim"], tab="unassigned", period="mars")
    assert response.status_code == 200
    assert "Skriv perioden som ÅÅÅÅ-MM." in response.content.decode()
    assert _rows(response) == [core_request.case.external_ref]


def test_pages_of_fifty(client, core_request, crew):
    """Sixty requests make two pages: fifty and ten, filters kept in the page links."""
    clone_requests(core_request, 59)
    kim = crew["kim"]
    first = _get(client, kim, tab="unassigned", flags="deviations")
    assert len(_rows(first)) == 50
    html = first.content.decode()
    assert "Visar 1–50 av 60" in html
    assert "page=2" in html and "flags=deviations" in html
    second = _get(client, kim, tab="unassigned", flags="deviations", page=2)
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
def test_inbox_queries_do_not_grow_with_the_number_of_cases(client, core_request, crew, tab):
    """3 or 60 requests: the same, small number of queries (no query per row)."""
    kim = crew["kim"]
    clone_requests(core_request, 2, prefix="few")
    if tab == "mine":
        ApprovalRequest.objects.update(assigned_to=kim)
    few = _queries(client, kim, tab=tab)
    clone_requests(core_request, 57, prefix="many", assigned_to=kim if tab == "mine" else None)
    many = _queries(client, kim, tab=tab)
    assert few == many
    assert many <= 10, many


def test_filtered_inbox_queries_do_not_grow(client, core_request, crew):
    """With filters on, the page counts its own rows: still constant."""
    kim = crew["kim"]
    params = {"tab": "unassigned", "flags": "deviations", "period": "2026-03"}
    clone_requests(core_request, 2, prefix="few")
    few = _queries(client, kim, **params)
    clone_requests(core_request, 57, prefix="many")
    assert _queries(client, kim, **params) == few


# --- roles -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["greta", "olle"])
def test_people_outside_the_unit_see_an_empty_inbox(client, core_request, crew, who):
    """The auditor and another unit's caseworker see no request of this unit."""
    for tab in ("mine", "unassigned", "returned", "second", "decided"):
        assert _rows(_get(client, crew[who], tab=tab)) == []


def test_superuser_without_grants_sees_nothing(client, core_request, crew):
    """A superuser flag shows nothing: the inbox reads grants, not flags."""
    boss = User.objects.create_superuser("boss", password="x")
    Staff.objects.create(user=boss, unit=core_request.unit, role=Staff.Role.CASEWORKER)
    assert _rows(_get(client, boss, tab="unassigned")) == []


def test_inbox_needs_login(client):
    """Anonymous visitors are sent to the login page."""
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- claim, release, reassign through the pages ------------------------------------------


def test_claim_button_in_the_queue(client, core_request, crew):
    """Claiming from the queue returns to the queue with a confirmation."""
    client.force_login(crew["kim"])
    response = client.post(
        f"/requests/{core_request.pk}/claim/", {"next": "/?tab=unassigned"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/?tab=unassigned"
    assert "Ärendet är ditt" in response.content.decode()
    core_request.refresh_from_db()
    assert core_request.assigned_to == crew["kim"]


def test_claim_redirect_stays_on_this_site(client, core_request, crew):
    """A foreign `next` is ignored: back to the case page instead."""
    client.force_login(crew["kim"])
    response = client.post(f"/requests/{core_request.pk}/claim/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/cases/{core_request.case_id}/"


def test_claiming_a_held_request_shows_why_not(client, core_request, crew):
    """Kai is told the case is claimed; nothing changes."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    client.force_login(crew["kai"])
    response = client.post(f"/requests/{core_request.pk}/claim/", follow=True)
    assert "Ärendet är taget av en annan handläggare." in response.content.decode()
    core_request.refresh_from_db()
    assert core_request.assigned_to == crew["kim"]


@pytest.mark.parametrize("action", ["claim", "unclaim", "reassign"])
def test_other_units_get_not_found(client, core_request, crew, action):
    """Another unit's caseworker gets 404 for every action, exactly like a missing request."""
    client.force_login(crew["olle"])
    assert client.post(f"/requests/{core_request.pk}/{action}/").status_code == 404
    assert client.post(f"/requests/{core_request.pk + 999}/{action}/").status_code == 404


def test_actions_need_post(client, core_request, crew):
    """A GET never claims."""
    client.force_login(crew["kim"])
    assert client.get(f"/requests/{core_request.pk}/claim/").status_code == 405


def test_team_leader_reassigns_from_the_case_page(client, core_request, crew):
    """Lo gives the request to Kai through the form."""
    client.force_login(crew["lo"])
    response = client.post(
        f"/requests/{core_request.pk}/reassign/", {"assignee": crew["kai"].pk}, follow=True
    )
    assert "Ärendet har fördelats om." in response.content.decode()
    core_request.refresh_from_db()
    assert core_request.assigned_to == crew["kai"]


def test_caseworker_cannot_reassign_through_the_page(client, core_request, crew):
    """Kim's reassign attempt is refused with the reason."""
    client.force_login(crew["kim"])
    response = client.post(
        f"/requests/{core_request.pk}/reassign/", {"assignee": crew["kai"].pk}, follow=True
    )
    assert "Bara en gruppledare på enheten kan fördela om ärenden." in response.content.decode()
    core_request.refresh_from_db()
    assert core_request.assigned_to is None


def test_reassign_to_an_unknown_person_is_refused(client, core_request, crew):
    """Only colleagues listed in the form can be chosen."""
    client.force_login(crew["lo"])
    response = client.post(
        f"/requests/{core_request.pk}/reassign/", {"assignee": crew["olle"].pk}, follow=True
    )
    assert "Välj en kollega i listan." in response.content.decode()
    core_request.refresh_from_db()
    assert core_request.assigned_to is None


def test_request_granted_to_a_person_directly_is_listed(client, core_request, crew):
    """A direct grant to one caseworker shows the request to her, not to the unit."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm, remove_perm

    group = Group.objects.get(name=f"unit:{core_request.unit.code}")
    remove_perm("approvals.view_approvalrequest", group, core_request)
    assert _rows(_get(client, crew["kim"], tab="unassigned")) == []
    assign_perm("approvals.view_approvalrequest", crew["kim"], core_request)
    assert _rows(_get(client, crew["kim"], tab="unassigned")) == [core_request.case.external_ref]
    assert _get(client, crew["kim"]).context["counts"]["unassigned"] == 1
    assert _rows(_get(client, crew["kai"], tab="unassigned")) == []
