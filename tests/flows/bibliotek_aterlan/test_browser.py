"""The librarian's exception queue in headless Chromium: Lena opens a refused renewal from the
inbox and settles it with a reason and a new due date."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals.models import ExceptionSettlement
from flows.bibliotek_aterlan import steps
from flows.bibliotek_aterlan.models import LoanRenewal
from municipality.demo import DEMO_PASSWORD
from tests.browser.conftest import (  # noqa: F401  (fixtures)
    _prefect_is_elsewhere,
    _swedish_catalogue_compiled,
    browser,
    page,
)
from tests.browser.pages import axe_violations, login

from .night_helpers import night

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def exceptions(org, library, fast_pdf):
    """Tonight's run done in-process (no Prefect here: the outbox commands stay queued)."""
    # Hashed with this test's (fast) hasher, whichever built the organisation.
    lena = org["users"]["lena"]
    lena.set_password(DEMO_PASSWORD)
    lena.save(update_fields=["password"])
    steps.night_run(today=night())
    return LoanRenewal.objects.get(item_id="3900000000028")


def test_lena_settles_a_refused_renewal_from_the_inbox(
    page,  # noqa: F811  (the page fixture)
    live_server,
    exceptions,
    mailoutbox,
):
    """From the inbox to the case page; a missing date is reported with the reason kept;
    then the page says it is settled, the settlement holds her reason, and the patron is
    told the new date."""
    case = exceptions.exception_case
    new_due = (timezone.localdate() + dt.timedelta(days=14)).isoformat()
    login(page, live_server.url, "lena")
    expect(page.locator("h1")).to_have_text("Inkorg")
    page.get_by_role("link", name=case.external_ref).click()
    expect(page.locator("h1")).to_contain_text(case.external_ref)
    expect(page.get_by_test_id("loan-reason")).to_have_text("Reserverad av annan låntagare")
    assert axe_violations(page) == []

    # Renewed by hand but no date yet: the error names the field, the reason stays typed.
    page.get_by_label("Jag har lånat om lånet för hand").check()
    page.get_by_label("Skäl").fill("Reservationen makulerades; omlånat i Koha.")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Avgör undantaget").click()
    expect(page.get_by_role("alert")).to_contain_text("Ange den nya återlämningsdagen.")
    expect(page.get_by_label("Skäl")).to_have_value("Reservationen makulerades; omlånat i Koha.")
    assert not ExceptionSettlement.objects.filter(request__case=case).exists()

    page.get_by_label("Ny återlämningsdag").fill(new_due)
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Avgör undantaget").click()

    expect(page.locator(".message.success")).to_contain_text("omlånat för hand")
    expect(page.get_by_test_id("settlement")).to_contain_text(new_due)
    case.refresh_from_db()
    assert case.status == "completed"
    settlement = ExceptionSettlement.objects.get(request__case=case)
    assert settlement.settled_by.username == "lena"
    assert settlement.reason == "Reservationen makulerades; omlånat i Koha."
    assert [m.to for m in mailoutbox if new_due in m.body] == [["astrid.testsson@example.org"]]
