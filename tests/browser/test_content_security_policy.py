"""The pages keep working under their Content-Security-Policy in a real browser."""

import pytest
from playwright.sync_api import expect

from tests.conftest import compile_case, demo_application, receive

from .pages import login, open_case, read_material

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def strict_page(browser):
    """A context that enforces the CSP (the shared `page` fixture bypasses it for axe)."""
    context = browser.new_context(locale="sv-SE", viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield page, violations
    context.close()


def test_login_inbox_and_case_page_render_without_csp_violations(strict_page, live_server, org):
    """Login, inbox and the case page with its material frame load their stylesheet and
    show the material, and the browser reports no blocked resource."""
    page, violations = strict_page
    case = compile_case(receive(org, demo_application())).case
    login(page, live_server.url, "anna")
    expect(page.locator("h1")).to_have_text("Inkorg")
    open_case(page, live_server.url, case.pk)
    read_material(page, expect_text="4")
    # The project's stylesheet applied (the skip link is moved off-screen by app.css).
    assert (
        page.locator(".skip-link").first.evaluate("e => getComputedStyle(e).position") == "absolute"
    )
    assert violations == []
