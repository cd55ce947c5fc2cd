"""The whole product in a browser: a real Prefect server and flow runner behind the live app.

An application arrives through the API, the robot suspends waiting for a human, a
caseworker signs with the keyboard in Chromium, the flow resumes and writes the letter,
and the caseworker sees the result and reads the letter.
"""

import pytest
from playwright.sync_api import expect

from approvals.models import Case, Decision, PrefectCommand
from approvals.prefect_gateway import commands_deliver_due
from municipality.demo import demo_organisation_load
from tests.conftest import demo_application, kr, text_of
from tests.e2e.conftest import wait_for, wait_for_state

from .pages import login, open_case, read_material, sign_with_keyboard

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _prefect_is_elsewhere():
    """Overrides the browser conftest: here Prefect is real."""


def test_caseworker_signs_in_browser_and_flow_writes_the_letter(
    page, live_server, prefect_stack, settings, api_post
):
    """Intake → Suspended → keyboard sign-off in Chromium → resumed → letter on the case page."""
    settings.PREFECT_START_ON_COMMIT = True
    demo_organisation_load()
    response = api_post("/api/v1/applications/", demo_application("etj-2026-000101"))
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    wait_for(lambda: Case.objects.get(pk=case.pk).flow_run_id, what="flow run")
    case.refresh_from_db()
    wait_for_state(case.flow_run_id, {"PAUSED"}, logs=prefect_stack["logs"])

    login(page, live_server.url, "anna")
    open_case(page, live_server.url, case.pk)
    read_material(page, expect_text="Beslutsunderlag")
    sign_with_keyboard(page, outcome="approved")
    expect(page.get_by_test_id("decision")).to_contain_text("Bifall")
    decision = Decision.objects.get(request__case=case)

    # The live server's thread has no Prefect settings of its own, so its on-commit
    # delivery waits in the outbox; the outbox worker's round delivers it, as in the demo.
    if PrefectCommand.objects.filter(case=case, kind="resume", status="pending").exists():
        PrefectCommand.objects.filter(case=case, status="pending").update(
            next_attempt_at=decision.signed_at
        )
        assert commands_deliver_due()[1] == 0
    wait_for_state(case.flow_run_id, {"COMPLETED"}, logs=prefect_stack["logs"])

    page.reload()
    letter_link = page.get_by_role("link", name="Beslutsbrev (PDF)")
    expect(letter_link).to_be_visible()
    pdf = page.request.get(live_server.url + letter_link.get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf"
    text = text_of(pdf.body())
    assert "Bifall" in text and "Anna Lind" in text and kr(decision.authority_amount) in text
