"""The operators' robot catalogue in a real browser: accessible, with every health state."""

import pytest
from playwright.sync_api import expect

from approvals import prefect_gateway, services
from approvals.models import PrefectCommand
from tests.conftest import compile_case, demo_application, receive

from .pages import axe_violations, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_catalogue_has_no_serious_accessibility_violations(page, live_server, org, monkeypatch):
    """axe-core finds no serious or critical violation; the status is readable as words."""
    monkeypatch.setattr(prefect_gateway, "prefect_health", lambda: False)
    case = receive(org, demo_application())
    compile_case(case)
    services.case_flow_failed(case_id=case.pk, flow_run_id="run", reason="Crashed")
    PrefectCommand.objects.update(status=PrefectCommand.Status.DEAD)
    login(page, live_server.url, "otto")
    page.get_by_role("link", name="Robotar").click()
    expect(page.locator("h1")).to_have_text("Robotkatalog")
    expect(page.get_by_test_id("health-ekonomiskt-bistand")).to_contain_text("Åtgärd krävs")
    expect(page.get_by_test_id("prefect-status")).to_contain_text("inte nåbar")
    assert axe_violations(page) == []
