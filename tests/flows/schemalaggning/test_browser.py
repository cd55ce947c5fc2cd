"""The manager in Chromium: open the proposal, move a shift, see the breach, approve."""

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from approvals.models import Decision
from flows.schemalaggning import steps
from flows.schemalaggning.models import RosterCalendar
from municipality.demo import DEMO_PASSWORD
from tests.browser.conftest import (  # noqa: F401  (the browser tests' fixtures)
    _prefect_is_elsewhere,
    _swedish_catalogue_compiled,
    browser,
    page,
)
from tests.browser.pages import login, open_case, read_material
from tests.gate_helpers import verify

from .casework import overlapping_move, roster_case_open, roster_compile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/robotfabrik-roster-page.png"


@pytest.fixture
def request_(org, fast_pdf):
    """A proposal waiting for elin (ORM work before any page loads).

    elin's password is set again under the tests' hasher: the session's demo organisation
    is built before the tests' settings apply (its PBKDF2 hashes then fail to check).
    """
    elin = org["users"]["elin"]
    elin.set_password(DEMO_PASSWORD)
    elin.save(update_fields=["password"])
    return roster_compile(roster_case_open(org))


def test_manager_moves_a_shift_sees_the_breach_and_approves(page, live_server, request_, org):  # noqa: F811
    """elin opens the case, moves a shift onto a colleague already working then, sees the
    overlap at once, approves; after the resume the robot publishes one .ics per person."""
    url = live_server.url
    index, person = overlapping_move(request_.material)
    login(page, url, "elin")
    open_case(page, url, request_.case_id)
    read_material(page, expect_text="Schemaförslag")
    expect(page.get_by_test_id("no-breaches")).to_be_visible()

    page.locator("#move-index").fill(str(index))
    page.locator("#move-staff").select_option(person)
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Flytta passet").click()
    expect(page.locator('[data-testid="breach"][data-rule="overlap"]').first).to_be_visible()
    expect(page.get_by_test_id("breach-count")).not_to_have_text("0")
    expect(page.get_by_test_id("edits")).to_contain_text(f"Pass nr {index} flyttat till {person}")
    page.screenshot(path=SCREENSHOT, full_page=True)

    read_material(page)
    page.locator("#accept-breaches").check()
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Fastställ schemat").click()
    expect(page.locator(".message.success")).to_contain_text("Schemat är fastställt")
    decision = Decision.objects.get(request=request_)
    assert decision.signer == org["users"]["elin"]
    assert decision.decided["edits"] == [{"op": "move", "index": index, "staff": person}]

    # What the flow does after the resume (no Prefect in the browser tests).
    verify(decision)
    steps.roster_publish(decision_id=decision.pk, flow_run_id="test")
    page.reload()
    links = page.get_by_test_id("calendars").get_by_role("link")
    expect(links).to_have_count(3)
    response = page.request.get(
        url + f"/p/schemalaggning/cases/{request_.case_id}/calendars/{person}.ics"
    )
    assert response.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(response.body()).walk("VEVENT")
    assert len(events) == RosterCalendar.objects.get(decision=decision, staff_id=person).events
    moved = request_.material.proposal["shifts"][index]
    assert moved["start"] in {e.decoded("dtstart").strftime("%Y-%m-%dT%H:%M") for e in events}
