"""A librarian settles a refused renewal on the case page: renewed by hand, or let run out."""

import datetime as dt

import pytest
from django.utils import timezone

from approvals import services
from approvals.models import ApprovalRequest, Case, ExceptionSettlement
from flows.bibliotek_aterlan import steps
from flows.bibliotek_aterlan.models import LoanRenewal
from flows.bibliotek_aterlan.process import SLUG

from .night_helpers import night

pytestmark = pytest.mark.django_db

RESERVED_ITEM = "3900000000028"  # Astrid's loan, reserved by another patron


@pytest.fixture
def exception(org, library, fast_pdf, mailoutbox):
    """Tonight's run done; the open exception request for the reserved loan."""
    steps.night_run(today=night())
    mailoutbox.clear()
    row = LoanRenewal.objects.get(item_id=RESERVED_ITEM)
    return row.exception_case.requests.get(kind=ApprovalRequest.Kind.EXCEPTION)


def settle_url(request) -> str:
    return f"/p/{SLUG}/requests/{request.pk}/settle/"


def new_due() -> str:
    return (timezone.localdate() + dt.timedelta(days=14)).isoformat()


def test_the_case_page_shows_the_loan_and_the_settlement_form(web, org, exception):
    """Lena sees the loan, why it was refused, and the form posting to the settle page."""
    web.force_login(org["users"]["lena"])
    page = web.get(f"/cases/{exception.case_id}/").content.decode()
    assert "Reserverad av annan låntagare" in page
    assert settle_url(exception) in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_lena_renews_by_hand_and_the_patron_is_told_the_new_date(web, org, exception, mailoutbox):
    """Renewed by hand with a reason and a date: the settlement is recorded (no Decision),
    the case completes, and the patron gets an e-mail with the new due date."""
    lena = org["users"]["lena"]
    web.force_login(lena)
    response = web.post(
        settle_url(exception),
        {
            "action": "renewed_by_hand",
            "new_due_date": new_due(),
            "reason": "Reservationen är makulerad.",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{exception.case_id}/"
    settlement = ExceptionSettlement.objects.get(request=exception)
    assert (settlement.action, settlement.settled_by) == ("renewed_by_hand", lena)
    assert settlement.data == {"new_due_date": new_due()}
    case = Case.objects.get(pk=exception.case_id)
    assert case.status == Case.Status.COMPLETED
    row = LoanRenewal.objects.get(exception_case=case)
    assert (row.settled_action, row.settled_due_date.isoformat()) == ("renewed_by_hand", new_due())
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["astrid.testsson@example.org"]
    assert new_due() in mailoutbox[0].body
    page = web.get(f"/cases/{case.pk}/").content.decode()
    assert "Reservationen är makulerad." in page and settle_url(exception) not in page


def test_let_run_out_needs_only_a_reason(web, org, exception, mailoutbox):
    """Letting the loan run out sends no second e-mail (the patron was told at night)."""
    web.force_login(org["users"]["lars"])
    response = web.post(
        settle_url(exception), {"action": "let_run_out", "reason": "Reserverad, ska tillbaka."}
    )
    assert response.status_code == 302
    assert ExceptionSettlement.objects.get(request=exception).action == "let_run_out"
    assert Case.objects.get(pk=exception.case_id).status == Case.Status.COMPLETED
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (
            {"action": "renewed_by_hand", "reason": "Gjort i Koha."},
            "Ange den nya återlämningsdagen.",
        ),
        (
            {"action": "renewed_by_hand", "new_due_date": "2020-01-01", "reason": "x"},
            "måste vara efter",
        ),
        ({"action": "let_run_out", "reason": "   "}, "Skriv skälet."),
        ({"reason": "Gjort i Koha."}, "Välj om lånet"),
        (
            {"action": "renewed_by_hand", "new_due_date": "1 jan", "reason": "Gjort i Koha."},
            "ÅÅÅÅ-MM-DD",
        ),
    ],
)
def test_errors_are_shown_and_what_was_typed_is_kept(web, org, exception, form, error):
    """A refused form comes back (400) with the error and the typed reason; nothing settles."""
    web.force_login(org["users"]["lena"])
    response = web.post(settle_url(exception), form)
    assert response.status_code == 400
    page = response.content.decode()
    assert error in page
    if form["reason"].strip():
        assert form["reason"] in page
    if form.get("new_due_date"):
        assert f'value="{form["new_due_date"]}"' in page
    assert not ExceptionSettlement.objects.filter(request=exception).exists()
    assert Case.objects.get(pk=exception.case_id).status == Case.Status.AWAITING_PERSON


def test_staff_of_another_unit_get_404_and_the_service_refuses_them(web, org, exception):
    """Anna (ekonomiskt bistånd) cannot see or settle the library's exception."""
    anna = org["users"]["anna"]
    web.force_login(anna)
    form = {"action": "let_run_out", "reason": "Inte min enhet."}
    assert web.post(settle_url(exception), form).status_code == 404
    assert web.get(f"/cases/{exception.case_id}/").status_code == 404
    with pytest.raises(services.ServiceError) as refused:
        services.exception_settle(
            request_id=exception.pk, user=anna, action="let_run_out", reason="Inte min enhet."
        )
    assert refused.value.code == services.EXCEPTION_NO_ACCESS
    assert not ExceptionSettlement.objects.filter(request=exception).exists()


def test_a_librarian_of_another_library_unit_is_refused(web, org, exception):
    """A librarian of another unit (a branch library) gets 404, like a missing request."""
    from municipality.demo import demo_unit, demo_user

    branch = demo_unit(code="kultur-filial", name="Filialbiblioteket", committee="KFN")
    other = demo_user(
        org=org,
        username="frida",
        first="Frida",
        last="Filial",
        kind="human",
        role="caseworker",
        title="Bibliotekarie",
        unit=branch,
    )
    web.force_login(other)
    response = web.post(settle_url(exception), {"action": "let_run_out", "reason": "x"})
    assert response.status_code == 404


def test_a_colleague_holding_the_case_keeps_it(web, org, exception):
    """Claimed by Lars: Lena is told so, and nothing is settled."""
    from approvals.services import assignment

    assignment.request_claim(request_id=exception.pk, user=org["users"]["lars"])
    web.force_login(org["users"]["lena"])
    response = web.post(settle_url(exception), {"action": "let_run_out", "reason": "x"})
    assert response.status_code == 302
    assert not ExceptionSettlement.objects.filter(request=exception).exists()


def test_a_decision_request_or_an_unknown_one_is_not_found_here(web, org, exception):
    web.force_login(org["users"]["lena"])
    assert web.post(f"/p/{SLUG}/requests/999999/settle/", {}).status_code == 404


def test_a_settled_exception_cannot_be_settled_twice(web, org, exception):
    web.force_login(org["users"]["lena"])
    form = {"action": "let_run_out", "reason": "Får gå ut."}
    assert web.post(settle_url(exception), form).status_code == 302
    assert web.post(settle_url(exception), form).status_code == 302
    assert ExceptionSettlement.objects.filter(request=exception).count() == 1
