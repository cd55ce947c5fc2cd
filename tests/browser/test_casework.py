"""The caseworker's sign-off in a real browser: keyboard only, accessible, Swedish or English."""

import pytest
from playwright.sync_api import expect

from approvals.audit import Kind
from approvals.models import AuditEvent, Decision
from tests.conftest import compile_case, demo_application, receive

from .pages import axe_violations, login, open_case, read_material, sign_with_keyboard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/robotfabrik-case-page.png"


@pytest.fixture
def request_(org):
    """An open request for the first demo application (ORM work before any page loads)."""
    return compile_case(receive(org, demo_application()))


def test_caseworker_reads_and_signs_with_the_keyboard(page, live_server, request_, org):
    """Log in, open the case from the inbox, read the material, sign with Tab/Space/Enter."""
    url = live_server.url
    login(page, url, "anna")
    expect(page.locator("h1")).to_have_text("Inkorg")
    case_link = page.get_by_role("link", name=request_.case.external_ref)
    expect(case_link).to_be_visible()
    case_link.focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text(request_.case.external_ref)
    expect(page.get_by_test_id("proposed-amount")).to_have_text("4\u00a0285\u00a0kr")
    read_material(page, expect_text="4")
    page.screenshot(path=SCREENSHOT, full_page=True)

    sign_with_keyboard(page, outcome="approved")

    expect(page.locator(".message.success")).to_contain_text("Beslutet är undertecknat")
    expect(page.get_by_test_id("decision")).to_contain_text("Bifall")
    decision = Decision.objects.get(request=request_)
    assert decision.signer == org["users"]["anna"]
    assert decision.material_sha256 == request_.material.sha256
    opened = AuditEvent.objects.filter(
        kind=Kind.MATERIAL_VIEWED, actor=org["users"]["anna"], material=request_.material
    )
    assert opened.exists()


def test_refusal_with_motivation_by_keyboard(page, live_server, request_, org):
    """Choosing "Avslå" with the arrow keys and writing a motivation records a refusal."""
    login(page, live_server.url, "erik")
    open_case(page, live_server.url, request_.case_id)
    read_material(page)
    sign_with_keyboard(page, outcome="refused", motivation="Inkomsterna täcker behovet.")
    expect(page.get_by_test_id("decision")).to_contain_text("Avslag")
    decision = Decision.objects.get(request=request_)
    assert (decision.outcome, decision.motivation) == ("refused", "Inkomsterna täcker behovet.")


def test_missing_motivation_is_announced_and_nothing_signed(page, live_server, request_):
    """A refusal without motivation comes back with an alert that names the field."""
    login(page, live_server.url, "anna")
    open_case(page, live_server.url, request_.case_id)
    read_material(page)
    sign_with_keyboard(page, outcome="refused")
    expect(page.get_by_role("alert")).to_contain_text("Skriv en motivering till beslutet.")
    expect(page.locator("#id_motivation")).to_have_attribute("aria-invalid", "true")
    assert not Decision.objects.exists()


@pytest.mark.parametrize("where", ["login", "inbox", "case", "audit"])
def test_no_serious_accessibility_violations(page, live_server, request_, where):
    """axe-core finds no serious or critical WCAG 2.1 A/AA violation on the main pages."""
    url = live_server.url
    if where == "login":
        page.goto(f"{url}/accounts/login/")
    elif where == "audit":
        login(page, url, "greta")
        page.goto(f"{url}/audit/")
    else:
        login(page, url, "anna")
        if where == "case":
            open_case(page, url, request_.case_id)
            read_material(page)
    assert axe_violations(page) == []


def test_switch_to_english(page, live_server, request_):
    """Choosing English in the header turns the pages and amounts English."""
    login(page, live_server.url, "anna")
    page.get_by_label("Språk").select_option("en")
    page.get_by_role("button", name="Byt språk").click()
    expect(page.locator("h1")).to_have_text("Inbox")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Unit queue")).to_be_visible()
    open_case(page, live_server.url, request_.case_id)
    expect(page.get_by_role("heading", name="The robot's proposal")).to_be_visible()
    expect(page.get_by_test_id("proposed-amount")).to_have_text("4,285\u00a0kr")


def test_change_a_line_by_its_label(page, live_server, request_, org):
    """The line changes open from their summary, are found by their labels, pass axe-core,
    and sign a partial approval for the recomputed amount."""
    login(page, live_server.url, "anna")
    open_case(page, live_server.url, request_.case_id)
    read_material(page)
    page.get_by_text("Ändra enskilda poster").click()
    page.get_by_label("Hyra: beslutat belopp (kr)").fill("5900")
    page.get_by_label("Hyra: skäl till ändringen").fill("Hyran överstiger skälig nivå.")
    assert axe_violations(page) == []
    page.get_by_label("Bevilja ett annat belopp").check()
    page.get_by_label("Motivering").fill("Hyran godtas upp till skälig nivå.")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Underteckna beslutet").click()
    expect(page.get_by_test_id("decision")).to_contain_text("Delvis bifall")
    expect(page.get_by_test_id("change")).to_contain_text("ändrat till 5\u00a0900\u00a0kr")
    decision = Decision.objects.get(request=request_)
    assert (decision.outcome, decision.authority_amount) == ("partly_approved", 3735)


def test_an_old_login_signs_after_the_password_again(page, live_server, request_, org):
    """An hour-old login: the case page asks for the password again; typed with the keyboard,
    it brings the caseworker back to the case, and the signature carries the new time."""
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from municipality.authentication import REAUTHENTICATED, SESSION_KEY
    from municipality.demo import DEMO_PASSWORD

    login(page, live_server.url, "anna")
    (key,) = Session.objects.values_list("session_key", flat=True)
    session = SessionStore(session_key=key)
    session[SESSION_KEY] = {
        "method": "password",
        "at": (timezone.now() - timedelta(hours=1)).isoformat(),
    }
    session.save()
    open_case(page, live_server.url, request_.case_id)
    read_material(page)
    expect(page.get_by_test_id("reauth")).to_contain_text("Bekräfta vem du är")
    page.locator("#id_reauth_password").focus()
    page.keyboard.type(DEMO_PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    expect(page.locator(".message.success")).to_contain_text("Du har bekräftat vem du är")
    expect(page.get_by_test_id("reauth")).to_have_count(0)
    sign_with_keyboard(page, outcome="approved")
    expect(page.get_by_test_id("decision")).to_contain_text("Bifall")
    renewed = AuditEvent.objects.get(kind=REAUTHENTICATED)
    signed = AuditEvent.objects.get(kind=Kind.DECISION_SIGNED)
    assert signed.data["authentication"]["at"] == renewed.data["at"]
    assert signed.actor == org["users"]["anna"]
