"""The certificate robot's pages in headless Chromium: HR settles an exception, an employee
asks for and downloads her own certificate. The flow's steps run in the test's process."""

import hashlib

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from approvals.models import ApprovalRequest, Case, Document, ExceptionSettlement
from municipality.demo import DEMO_PASSWORD
from tests.browser.pages import axe_violations, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _passwords(org):
    """The demo password hashed with the tests' hasher: the session's organisation was built
    before the tests switched hashers, so its hashes cannot be checked here."""
    for username in ("hanna", "eva"):
        user = User.objects.get(username=username)
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])


@pytest.fixture
def karins_exception(org, client, hr_register, run_case):
    """Klara asked (E1009: ended, no reason recorded); the robot opened an exception."""
    client.force_login(User.objects.get(username="klara"))
    assert client.post("/p/anstallningsintyg/", {"kind": "anstallningsintyg"}).status_code == 302
    case = Case.objects.get(process="anstallningsintyg")
    run = run_case(case.pk)
    result = run.rules()
    assert result["issued"] is False
    return case, ApprovalRequest.objects.get(pk=result["request_id"]), run


def test_hr_officer_settles_an_exception_in_the_browser(
    page, live_server, karins_exception, hr_register
):
    """Hanna finds the exception in her inbox, is told a reason is missing, then settles it."""
    case, request, run = karins_exception
    url = live_server.url
    login(page, url, "hanna")
    link = page.get_by_role("link", name=case.external_ref)
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_test_id("findings")).to_contain_text("missing_end_reason")

    page.get_by_label("Uppgifterna är rättade: utfärda intyget").check()
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Åtgärda undantaget").click()
    expect(page.locator("#reason-error")).to_be_visible()
    expect(page.get_by_label("Uppgifterna är rättade: utfärda intyget")).to_be_checked()
    assert axe_violations(page) == []

    hr_register.employment("E1009", "E1009-1", end_reason="egen_uppsagning")
    page.get_by_label("Motivering (vad som rättades, eller varför begäran stängs)").fill(
        "Egen uppsägning registrerad i HR-systemet."
    )
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Åtgärda undantaget").click()
    expect(page.locator(".message.success")).to_be_visible()
    settlement = ExceptionSettlement.objects.get(request=request)
    assert settlement.settled_by.username == "hanna"
    assert settlement.action == "corrected_and_issued"

    # What the resumed flow does, then the case page shows the certificate.
    run.resume(
        request_id=request.pk,
        run_input={"request_id": request.pk, "settlement_id": settlement.pk},
    )
    assert run.rules()["issued"] is True
    page.reload()
    expect(page.get_by_test_id("issued")).to_be_visible()
    expect(page.locator("form.settle")).to_have_count(0)


def test_employee_asks_for_and_downloads_her_certificate(
    page, live_server, org, hr_register, delivery_dir, run_case
):
    url = live_server.url
    login(page, url, "eva")
    page.goto(f"{url}/p/anstallningsintyg/")
    page.get_by_label("Anställningsintyg", exact=True).check()
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Begär intyget").click()
    expect(page.locator(".message.success")).to_be_visible()
    assert axe_violations(page) == []
    case = Case.objects.get(process="anstallningsintyg")
    run_case(case.pk).rules()
    page.reload()
    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ner Anställningsintyg (PDF)").click()
    pdf = open(download.value.path(), "rb").read()
    assert hashlib.sha256(pdf).hexdigest() == Document.objects.get(case=case).sha256
