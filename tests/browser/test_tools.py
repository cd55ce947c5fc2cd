"""The tools of the trade in Chromium (issue 9, points 10-16): search, notes, refusals that
keep what was typed, the next case, the team view and a declined second signature."""

from datetime import date

import pytest
from playwright.sync_api import expect

from approvals.models import ApprovalRequest, CaseNote, CosignatureDecline
from municipality.models import SecondSignerRule
from tests.conftest import compile_case, demo_application, receive
from tests.gate_helpers import decide

from .pages import axe_violations, login, open_case, read_material

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def request_(org):
    return compile_case(receive(org, demo_application()))


def test_search_by_personnummer_and_write_a_note(page, live_server, request_):
    """From the inbox (which names the applicant), a 10-digit personnummer finds the case;
    a note written there is shown dated and signed, in the history too."""
    url = live_server.url
    login(page, url, "anna")
    page.get_by_role("link", name="Enhetens kö").click()
    expect(page.get_by_test_id("applicant").first).to_have_text("Sara Lind")
    page.get_by_role("searchbox", name="Sök ärenden").fill("910701-2388")
    page.get_by_role("searchbox", name="Sök ärenden").press("Enter")
    expect(page.get_by_test_id("search-hit")).to_have_count(1)
    assert axe_violations(page) == []
    page.get_by_role("link", name=request_.case.external_ref).click()
    page.get_by_label("Ny anteckning").fill("Ringde sökande om hyresavtalet.")
    page.get_by_role("button", name="Spara anteckningen").click()
    expect(page.get_by_test_id("note")).to_contain_text("Ringde sökande om hyresavtalet.")
    expect(page.get_by_test_id("note")).to_contain_text("Anna Lind")
    expect(page.locator("ol.history")).to_contain_text("Journalanteckning")
    assert CaseNote.objects.count() == 1


def test_over_the_limit_keeps_the_text_focuses_the_error_and_hands_over(
    page, live_server, request_, org
):
    """Granting more than the delegation covers: the error has focus, names the limit, the
    typed motivation is still there, and one click sends the case to Maria."""
    url = live_server.url
    login(page, url, "anna")
    open_case(page, url, request_.case_id)
    read_material(page)
    page.get_by_label("Bevilja ett annat belopp").check()
    page.locator("#id_amount").fill("16000")
    page.get_by_label("Motivering").fill("Särskilda skäl: tandvård.")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Underteckna beslutet").click()
    problem = page.get_by_test_id("gate-problem")
    expect(problem).to_be_focused()
    expect(problem).to_contain_text("Din delegation räcker till 15\u00a0000\u00a0kr")
    expect(page.get_by_label("Motivering")).to_have_value("Särskilda skäl: tandvård.")
    expect(page.locator("#id_amount")).to_have_value("16000")
    assert axe_violations(page) == []
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Skicka till Maria Holm").click()
    expect(page.get_by_test_id("held-by")).to_have_text("Maria Holm")
    request_.refresh_from_db()
    assert request_.assigned_to == org["users"]["maria"]


def test_signed_status_and_next_case(page, live_server, request_, org):
    """After signing the status says the letter is being written, and "Nästa ärende" opens
    the next case of the queue."""
    second = compile_case(receive(org, demo_application("etj-2026-000102")))
    url = live_server.url
    login(page, url, "anna")
    open_case(page, url, request_.case_id)
    read_material(page)
    page.locator('input[name="outcome"][value="approved"]').check()
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Underteckna beslutet").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Beslutat – brevet skrivs")
    expect(page.locator("ol.history")).not_to_contain_text("system:")
    page.get_by_test_id("next-case").click()
    expect(page.locator("h1")).to_contain_text(second.case.external_ref)


def test_team_leader_reassigns_and_declines_a_second_signature(page, live_server, request_, org):
    """Maria reassigns from the team view (the case stays listed), then refuses to co-sign
    another case with a reason; the first signer sees it."""
    SecondSignerRule.objects.create(
        unit=request_.unit, decision_type=request_.decision_type, valid_from=date(2026, 1, 1)
    )
    other = compile_case(receive(org, demo_application("etj-2026-000102")))
    decide(other, org["users"]["anna"])
    url = live_server.url
    login(page, url, "maria")
    page.get_by_role("link", name="Team").click()
    row = page.locator(f'tr[data-case="{request_.case.external_ref}"]')
    row.get_by_role("combobox").select_option(label="Erik Berg")
    with page.expect_navigation(wait_until="load"):
        row.get_by_role("button", name="Fördela om").click()
    row = page.locator(f'tr[data-case="{request_.case.external_ref}"]')
    expect(row.get_by_test_id("holder")).to_have_text("Erik Berg")
    assert axe_violations(page) == []
    open_case(page, url, other.case_id)
    read_material(page)
    page.get_by_label("Varför du inte skriver under").fill("Inkomsten från mars saknas.")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Avböj och skicka tillbaka").click()
    expect(page.get_by_test_id("cosignature-declined")).to_be_visible()
    decline = CosignatureDecline.objects.get()
    assert decline.reopened.assigned_to == org["users"]["anna"]
    assert ApprovalRequest.objects.get(pk=other.pk).status == "superseded"
