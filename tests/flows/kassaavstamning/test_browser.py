"""The controller attests a cash difference in headless Chromium (tests/browser's helpers).

The robot's part runs in-process before the page loads (no Prefect here, as in
tests/browser: the resume waits in the outbox); karin logs in, opens the difference
case from her inbox, reads the material and attests with the keyboard.
"""

import pytest
from playwright.sync_api import expect

from approvals.audit import Kind
from approvals.models import AuditEvent, Decision
from flows.kassaavstamning import steps
from flows.kassaavstamning.intake import import_store
from flows.kassaavstamning.models import KassaImport
from municipality.demo import DEMO_PASSWORD
from tests.browser.conftest import (  # noqa: F401  (fixtures)
    _prefect_is_elsewhere,
    _swedish_catalogue_compiled,
    browser,
    page,
)
from tests.browser.pages import login, read_material, sign_with_keyboard
from tests.gate_helpers import FLOW_RUN_ID

from .helpers import FILES, small_import

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def difference_request(org, fast_pdf):
    # The session's demo organisation may predate the tests' fast password hasher.
    karin = org["users"]["karin"]
    karin.set_password(DEMO_PASSWORD)
    karin.save(update_fields=["password"])
    files = {name: (FILES[name], data) for name, data in small_import().items()}
    row, _ = import_store(
        files=files, source=KassaImport.Source.COMMAND, received_by=steps.robot_account()
    )
    outcome = steps.import_reconcile(case_id=row.case_id, flow_run_id=FLOW_RUN_ID)
    (case_id,) = outcome["difference_cases"]
    steps.case_started(case_id=case_id, flow_run_id=FLOW_RUN_ID)
    opened = steps.material_prepare(case_id=case_id, flow_run_id=FLOW_RUN_ID)
    return opened


def test_controller_attests_a_difference_from_her_inbox(
    page,  # noqa: F811  (the page fixture)
    live_server,
    difference_request,
    org,
):
    """karin: inbox row (cash point, day, kind, amount) → case page → material → Attestera."""
    url = live_server.url
    login(page, url, "karin")
    expect(page.locator("h1")).to_have_text("Inkorg")
    summary = page.get_by_test_id("kassa-summary")
    expect(summary).to_contain_text("Stadsbiblioteket · 2026-11-03 · Insättning saknas")
    expect(summary).to_contain_text("2\u00a0000\u00a0kr")
    case_link = page.get_by_role("link", name="kassa-bibliotek-2026-11-03")
    case_link.focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("kassa-bibliotek-2026-11-03")
    expect(page.get_by_test_id("attest-amount")).to_have_text("2\u00a0000\u00a0kr")
    read_material(page, expect_text="Underlag för attest av kassadifferens")
    expect(page.get_by_role("radio", name="Attestera")).to_be_visible()
    expect(page.get_by_role("radio", name="Åter till kassapunkten med fråga")).to_be_visible()

    sign_with_keyboard(page, outcome="approved")

    expect(page.locator(".message.success")).to_be_visible()
    decision = Decision.objects.get(request_id=difference_request.request_id)
    karin = org["users"]["karin"]
    assert decision.signer == karin and decision.authority_amount == 2000
    assert decision.delegation.user == karin
    assert AuditEvent.objects.filter(
        kind=Kind.MATERIAL_VIEWED, actor=karin, material_id=difference_request.material_id
    ).exists()
