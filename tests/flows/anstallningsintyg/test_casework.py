"""The certificate robot wired into the core: requests, issuing, exceptions, verification.

The flow's steps run in this process (conftest.InProcessRun); the HR register and the
delivery folder are per-test copies; the certificates are real PDF/A read back.
"""

import hashlib
import io
import json
import re

import pikepdf
import pytest

from approvals.models import (
    ApprovalRequest,
    AuditEvent,
    Case,
    Decision,
    Document,
    ExceptionSettlement,
    PrefectCommand,
)
from approvals.printing import pdf_text
from flows.anstallningsintyg.hooks import automation
from flows.anstallningsintyg.models import Verification
from flows.anstallningsintyg.steps import (
    SETTLEMENT_OTHER_REQUEST,
    SETTLEMENT_UNKNOWN,
    SettlementNotVerified,
)
from flows.anstallningsintyg.verification import format_code

from .conftest import HR_URL, SELF_SERVICE_URL, SETTLE_URL

EVA_PNR = "199107152382"  # E1001 in the synthetic register
KARIN_PNR = "199711242389"  # E1009: employment ended, no reason recorded

pytestmark = pytest.mark.django_db


def _ask(client, user, kind="anstallningsintyg") -> Case:
    client.force_login(user)
    before = set(Case.objects.filter(process="anstallningsintyg").values_list("pk", flat=True))
    response = client.post(SELF_SERVICE_URL, {"kind": kind})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Case.objects.filter(process="anstallningsintyg").exclude(pk__in=before).get()


def _text(pdf: bytes) -> str:
    return " ".join(pdf_text(pdf).split())


@pytest.fixture
def issued(org, client, hr_register, delivery_dir, run_case):
    """Eva asked for her anställningsintyg and the robot issued it."""
    case = _ask(client, org["users"]["eva"])
    result = run_case(case.pk).rules()
    assert result["issued"] is True
    case.refresh_from_db()
    return case


def test_self_service_request_opens_a_case_for_the_logged_in_employee(org, client, hr_register):
    """The case names eva (found by her login's personnummer) and queues only the case id."""
    case = _ask(client, org["users"]["eva"])
    assert case.received_by == org["users"]["eva"]
    assert case.external_ref.startswith("intyg-")
    assert case.unit.code == "hr-lon"
    assert case.decision_mode == "exceptions" and case.public_authority is False
    assert list(case.parties.values_list("personnummer", "role")) == [(EVA_PNR, "employee")]
    assert case.data == {
        "kind": "anstallningsintyg",
        "employee_id": "E1001",
        "channel": "self_service",
    }
    start = PrefectCommand.objects.get(case=case, kind=PrefectCommand.Kind.START)
    assert start.payload == {"case_id": case.pk}  # nothing personal to Prefect


def test_settled_request_is_issued_as_pdf_a_with_its_verification(issued):
    """The rules settle E1001: a PDF/A-3u certificate with the code, completed by the robot."""
    assert issued.status == Case.Status.COMPLETED
    document = Document.objects.get(case=issued, kind=Document.Kind.CERTIFICATE)
    pdf = bytes(document.pdf)
    verification = Verification.objects.get(document=document)
    assert verification.document_sha256 == document.sha256 == hashlib.sha256(pdf).hexdigest()
    assert verification.issuer == "Exempelby kommun"
    text = _text(pdf)
    assert "Anställningsintyg" in text and "Eva Holm" in text and "19910715-2382" in text
    assert format_code(verification.code) in text
    assert f"/verify/{verification.code}/" in text
    with pikepdf.open(io.BytesIO(pdf)) as reader:
        metadata = reader.open_metadata()
        assert metadata["pdfaid:part"] == "3" and metadata["pdfaid:conformance"] == "U"
        assert metadata["dc:title"] == "Anställningsintyg"
    kinds = set(AuditEvent.objects.filter(case=issued).values_list("kind", flat=True))
    assert {"document.created", "case.completed_by_robot"} <= kinds
    assert not Decision.objects.filter(request__case=issued).exists()
    assert not issued.requests.exists()


def test_issuing_again_returns_the_same_certificate(issued, run_case):
    """A retried task finds the certificate issued and writes no second one."""
    result = run_case(issued.pk).rules()
    assert result["document_id"] == Document.objects.get(case=issued).pk
    assert Verification.objects.filter(document__case=issued).count() == 1


def test_employee_sees_and_downloads_her_certificate(issued, client, org):
    client.force_login(org["users"]["eva"])
    page = client.get(SELF_SERVICE_URL).content.decode()
    document = Document.objects.get(case=issued)
    assert f"/p/anstallningsintyg/certificates/{document.pk}/pdf/" in page
    response = client.get(f"/p/anstallningsintyg/certificates/{document.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(response.content).hexdigest() == document.sha256
    assert AuditEvent.objects.filter(
        case=issued, kind="document.viewed", actor=org["users"]["eva"]
    ).exists()


@pytest.mark.parametrize("who", ["klara", "hanna", "anna"])
def test_another_user_cannot_fetch_evas_certificate(issued, client, org, who):
    """Another employee, HR staff and a caseworker elsewhere get the same 404 as for none."""
    document = Document.objects.get(case=issued)
    client.force_login(org["users"][who])
    assert client.get(f"/p/anstallningsintyg/certificates/{document.pk}/pdf/").status_code == 404
    assert client.get("/p/anstallningsintyg/certificates/999999/pdf/").status_code == 404
    assert f"certificates/{document.pk}/" not in client.get(SELF_SERVICE_URL).content.decode()


def test_anonymous_download_is_sent_to_login(issued, client):
    client.logout()
    document = Document.objects.get(case=issued)
    response = client.get(f"/p/anstallningsintyg/certificates/{document.pk}/pdf/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _without_csrf(html: str) -> str:
    """The page without what differs per request: the CSRF token and the address itself."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'value="/p/anstallningsintyg/verify/[^"]*"', "", html)


def test_verify_page_shows_issuer_date_and_hash_only_without_login(issued, client):
    """Anyone may check a code; the page names the issuer, the date and the hash, not the person."""
    client.logout()
    verification = Verification.objects.get(document__case=issued)
    for typed in (verification.code, format_code(verification.code).lower()):
        response = client.get(f"/p/anstallningsintyg/verify/{typed}/")
        assert response.status_code == 200
        html = response.content.decode()
        assert verification.document_sha256 in html
        assert "Exempelby kommun" in html and "212000-9994" in html
        assert verification.issued_at.strftime("%Y-%m-%d") in html
        for personal in ("Eva", "Holm", "19910715", "910715", "Undersköterska", "E1001"):
            assert personal not in html


def test_unknown_and_mistyped_codes_get_the_same_404(issued, client):
    """A well-formed unknown code and a code with one wrong character look alike."""
    from flows.anstallningsintyg.verification import verification_code_new

    client.logout()
    code = Verification.objects.get(document__case=issued).code
    wrong = ("1" if code[3] != "1" else "2").join([code[:3], code[4:]])
    unknown = client.get(f"/p/anstallningsintyg/verify/{verification_code_new()}/")
    mistyped = client.get(f"/p/anstallningsintyg/verify/{wrong}/")
    garbage = client.get("/p/anstallningsintyg/verify/not-a-code/")
    assert unknown.status_code == mistyped.status_code == garbage.status_code == 404
    assert _without_csrf(unknown.content.decode()) == _without_csrf(mistyped.content.decode())
    assert _without_csrf(mistyped.content.decode()) == _without_csrf(garbage.content.decode())


def test_a_login_without_employee_cannot_ask(org, client, hr_register):
    """Hanna's login carries no personnummer: no form, and a POST opens nothing."""
    client.force_login(org["users"]["hanna"])
    assert 'data-testid="not-linked"' in client.get(SELF_SERVICE_URL).content.decode()
    response = client.post(SELF_SERVICE_URL, {"kind": "anstallningsintyg"})
    assert response.status_code == 400
    assert not Case.objects.filter(process="anstallningsintyg").exists()


# --- HR asks for anyone ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["eva", "anna", "intygsrobot"])
def test_hr_page_is_a_404_outside_hr(org, client, who):
    client.force_login(org["users"][who])
    assert client.get(HR_URL).status_code == 404
    assert (
        client.post(HR_URL, {"employee_id": "E1001", "kind": "anstallningsintyg"}).status_code
        == 404
    )
    assert not Case.objects.filter(process="anstallningsintyg").exists()


def test_hr_asks_for_an_arbetsgivarintyg_which_is_delivered(
    org, client, hr_register, delivery_dir, run_case
):
    """Hanna asks for E1004's; the fund's stand-in receives it and the copy is a certificate."""
    client.force_login(org["users"]["hanna"])
    response = client.post(HR_URL, {"employee_id": "E1004", "kind": "arbetsgivarintyg"})
    assert response.status_code == 302
    case = Case.objects.get(process="anstallningsintyg")
    assert case.received_by == org["users"]["hanna"] and case.data["channel"] == "hr"
    assert run_case(case.pk).rules()["issued"] is True
    delivered = json.loads((delivery_dir / f"{case.external_ref}.json").read_text())
    assert json.dumps(delivered, ensure_ascii=False).count("arbetsbrist") >= 1
    document = Document.objects.get(case=case)
    assert document.title == "Arbetsgivarintyg"
    assert "Uppsägning på grund av arbetsbrist" in _text(bytes(document.pdf))


def test_hr_request_for_an_unknown_employee_keeps_what_was_typed(org, client, hr_register):
    client.force_login(org["users"]["hanna"])
    response = client.post(HR_URL, {"employee_id": "E9999", "kind": "arbetsgivarintyg"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="E9999"' in html and 'id="employee-error"' in html
    assert not Case.objects.filter(process="anstallningsintyg").exists()


# --- exceptions: HR settles ------------------------------------------------------------


@pytest.fixture
def exception(org, client, hr_register, fast_pdf, run_case):
    """Klara (E1009, an ended employment without a reason) asked; the robot opened an exception."""
    case = _ask(client, org["users"]["klara"])
    run = run_case(case.pk)
    result = run.rules()
    assert result["issued"] is False
    case.refresh_from_db()
    request = ApprovalRequest.objects.get(pk=result["request_id"])
    client.logout()
    return case, request, run


def test_inconsistent_data_goes_to_hrs_queue_not_to_a_guess(exception, client, org):
    """No certificate; an exception request in HR och lön's queue, shown in hanna's inbox."""
    case, request, _ = exception
    assert case.status == Case.Status.AWAITING_PERSON
    assert request.kind == ApprovalRequest.Kind.EXCEPTION and request.unit.code == "hr-lon"
    assert request.material.summary == "missing_end_reason"
    assert not Document.objects.filter(case=case).exists()
    client.force_login(org["users"]["hanna"])
    inbox = client.get("/?tab=unassigned").content.decode()
    assert f"/cases/{case.pk}/" in inbox and "missing_end_reason" in inbox
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert SETTLE_URL.format(request.pk) in page
    assert 'data-code="missing_end_reason"' in page


@pytest.mark.parametrize("who", ["klara", "eva", "anna", "intygsrobot"])
def test_settling_is_a_404_for_anyone_outside_hr(exception, client, org, who):
    case, request, _ = exception
    client.force_login(org["users"][who])
    url = SETTLE_URL.format(request.pk)
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "closed", "reason": "x"}).status_code == 404
    assert not ExceptionSettlement.objects.exists()


def test_settlement_errors_keep_what_was_typed(exception, client, org):
    """A missing reason or action is refused with the typed choice and text kept."""
    case, request, _ = exception
    client.force_login(org["users"]["hanna"])
    url = SETTLE_URL.format(request.pk)
    response = client.post(url, {"action": "corrected_and_issued", "reason": "   "})
    assert response.status_code == 400
    assert re.search(r'value="corrected_and_issued"[^>]*checked', response.content.decode())
    response = client.post(url, {"reason": "Slutorsak registrerad i Heroma"})
    assert response.status_code == 400
    assert "Slutorsak registrerad i Heroma</textarea>" in response.content.decode()
    assert not ExceptionSettlement.objects.exists()
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.OPEN


def test_corrected_and_issued_runs_the_rules_again_and_issues(exception, client, org, hr_register):
    """HR records the end reason, settles; on resume the robot issues from the corrected data."""
    case, request, run = exception
    hr_register.employment("E1009", "E1009-1", end_reason="egen_uppsagning")
    client.force_login(org["users"]["hanna"])
    response = client.post(
        SETTLE_URL.format(request.pk),
        {"action": "corrected_and_issued", "reason": "Egen uppsägning registrerad i HR."},
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    settlement = ExceptionSettlement.objects.get(request=request)
    assert settlement.settled_by == org["users"]["hanna"]
    resume = PrefectCommand.objects.get(case=case, kind=PrefectCommand.Kind.RESUME)
    assert resume.payload == {
        "run_input": {"request_id": request.pk, "settlement_id": settlement.pk}
    }
    assert run.resume(request_id=request.pk, run_input=resume.payload["run_input"]) == (
        "corrected_and_issued"
    )
    result = run.rules()
    assert result["issued"] is True
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    text = _text(bytes(Document.objects.get(case=case).pdf))
    assert "Klara Wallin" in text and "har varit anställd" in text
    assert not Decision.objects.filter(request__case=case).exists()
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Egen uppsägning registrerad i HR." in page and 'data-testid="issued"' in page


def test_corrected_but_still_inconsistent_opens_a_new_exception(exception, client, org):
    """Settled as corrected while the data is unchanged: the robot asks again, version 2."""
    case, request, run = exception
    client.force_login(org["users"]["hanna"])
    client.post(
        SETTLE_URL.format(request.pk), {"action": "corrected_and_issued", "reason": "Rättat"}
    )
    settlement = ExceptionSettlement.objects.get(request=request)
    run.resume(
        request_id=request.pk, run_input={"request_id": request.pk, "settlement_id": settlement.pk}
    )
    result = run.rules()
    assert result["issued"] is False and result["request_id"] != request.pk
    assert case.materials.count() == 2
    assert not Document.objects.filter(case=case).exists()


def test_closed_completes_the_case_without_certificate(exception, client, org):
    case, request, run = exception
    client.force_login(org["users"]["henrik"])
    client.post(SETTLE_URL.format(request.pk), {"action": "closed", "reason": "Dubblett"})
    settlement = ExceptionSettlement.objects.get(request=request)
    assert settlement.settled_by == org["users"]["henrik"]
    assert (
        run.resume(
            request_id=request.pk,
            run_input={"request_id": request.pk, "settlement_id": settlement.pk},
        )
        == "closed"
    )
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert not Document.objects.filter(case=case).exists()
    client.force_login(org["users"]["klara"])
    assert 'data-status="closed"' in client.get(SELF_SERVICE_URL).content.decode()


def test_a_resume_claim_must_match_a_stored_settlement(exception, client, org):
    """Forged run input (unknown settlement, another request's) is refused by name."""
    case, request, run = exception
    with pytest.raises(SettlementNotVerified) as unknown:
        run.resume(
            request_id=request.pk, run_input={"request_id": request.pk, "settlement_id": 999}
        )
    assert unknown.value.code == SETTLEMENT_UNKNOWN
    client.force_login(org["users"]["hanna"])
    client.post(SETTLE_URL.format(request.pk), {"action": "closed", "reason": "Dubblett"})
    settlement = ExceptionSettlement.objects.get(request=request)
    with pytest.raises(SettlementNotVerified) as other:
        run.resume(
            request_id=request.pk + 1000,
            run_input={"request_id": request.pk + 1000, "settlement_id": settlement.pk},
        )
    assert other.value.code == SETTLEMENT_OTHER_REQUEST


def test_automation_rate_counts_cases_without_a_person(
    org, client, hr_register, delivery_dir, fast_pdf, run_case
):
    """Handled: completed cases in the window; automatic: those without an exception."""
    from django.utils import timezone

    since = timezone.now()
    eva_case = _ask(client, org["users"]["eva"])
    run_case(eva_case.pk).rules()
    karin_case = _ask(client, org["users"]["klara"])
    run = run_case(karin_case.pk)
    request_id = run.rules()["request_id"]
    assert automation(since=since) == {"handled": 1, "automatic": 1}
    client.force_login(org["users"]["hanna"])
    client.post(SETTLE_URL.format(request_id), {"action": "closed", "reason": "Dubblett"})
    settlement = ExceptionSettlement.objects.get(request_id=request_id)
    run.resume(
        request_id=request_id, run_input={"request_id": request_id, "settlement_id": settlement.pk}
    )
    assert automation(since=since) == {"handled": 2, "automatic": 1}
    assert automation(since=timezone.now()) == {"handled": 0, "automatic": 0}


def test_a_code_typed_into_the_form_goes_to_its_page(client):
    """The verify form (no login) sends the typed code, spaces removed, to its page."""
    assert client.get("/p/anstallningsintyg/verify/").status_code == 200
    response = client.get("/p/anstallningsintyg/verify/", {"code": " abcd efgh-jkmn pqrs "})
    assert response.status_code == 302
    assert response["Location"] == "/p/anstallningsintyg/verify/abcdefgh-jkmnpqrs/"


def test_the_printed_verify_address_is_served_at_the_root(client):
    """/verify/<code>/ (what the PDF prints) answers like the package's own page."""
    assert client.get("/verify/AAAA-BBBB-CCCC-DDDD/").status_code == 404
