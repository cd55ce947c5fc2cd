"""End to end through a real Prefect: the manager's request becomes published calendars."""

import time

import pytest
from django.contrib.auth.models import User

from approvals.models import Case, Decision, Document
from flows.schemalaggning.models import RosterCalendar
from municipality import runtime
from municipality.demo import demo_organisation_load
from tests.conftest import text_of
from tests.e2e.conftest import wait_for, wait_for_state
from tests.e2e.test_spine import prefect_storage_text
from tests.gate_helpers import login_fresh

from .casework import TINY, overlapping_move

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live(prefect_stack, settings):
    settings.PREFECT_START_ON_COMMIT = True
    demo_organisation_load()
    runtime.wait_for_deployment("schemalaggning/schemalaggning", timeout=60)
    return prefect_stack


def test_request_to_suspended_to_approved_to_calendars(live, client):
    """Request page → flow proposes and suspends → elin edits and approves → resumed, one
    iCalendar per person and the roster PDF; no staff name or id ever reaches Prefect."""
    started = time.monotonic()
    login_fresh(client, User.objects.get(username="elin"))
    assert client.post("/p/schemalaggning/", {"roster_input": TINY}).status_code == 302
    case = Case.objects.get(process="schemalaggning")
    wait_for(lambda: Case.objects.get(pk=case.pk).flow_run_id, what="flow run id")
    case.refresh_from_db()
    wait_for_state(case.flow_run_id, {"PAUSED"}, logs=live["logs"])
    case.refresh_from_db()
    assert case.status == Case.Status.AWAITING_DECISION
    material = case.materials.get()
    assert material.summary == "12 pass, 0 regelbrott"

    assert client.get(f"/cases/{case.pk}/").status_code == 200
    assert client.get(f"/material/{material.pk}/").status_code == 200
    index, person = overlapping_move(material)
    client.post(
        f"/p/schemalaggning/cases/{case.pk}/edit/",
        {"op": "move", "index": index, "staff": person, "day": "2027-01-10", "draft_version": 0},
    )
    response = client.post(
        f"/p/schemalaggning/cases/{case.pk}/approve/",
        {"material_sha256": material.sha256, "draft_version": 1, "accept_breaches": "on"},
    )
    assert response.status_code == 302
    decision = Decision.objects.get(request__case=case)
    assert decision.decided["edits"][0]["index"] == index

    wait_for_state(case.flow_run_id, {"COMPLETED"}, logs=live["logs"])
    case.refresh_from_db()
    assert case.status == Case.Status.DECIDED
    calendars = RosterCalendar.objects.filter(decision=decision)
    assert sorted(calendars.values_list("staff_id", flat=True)) == ["s01", "s02", "s03"]
    assert all(bytes(c.ics).startswith(b"BEGIN:VCALENDAR") for c in calendars)
    document = Document.objects.get(decision=decision)
    text = text_of(document.pdf)
    assert document.kind == "roster" and "Fastställt schema" in text
    assert "Elin Sandberg" in text and "Pass nr" in text  # the signer and her edit
    assert time.monotonic() - started < 120

    stored = prefect_storage_text(live["home"])
    assert str(case.flow_run_id) in stored
    for text in ("Aino A.", "Bertil A.", "Cecilia A.", '"s01"', "delegated_medication"):
        assert text not in stored
