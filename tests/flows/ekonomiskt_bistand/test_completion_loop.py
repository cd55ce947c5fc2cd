"""The completion loop reaches the applicant (issue 9, point 6).

A return for completion writes a *begäran om komplettering*, shown in the status API
with its PDF; the applicant's system hears of it through a signed callback; a deadline
that passes without a supplement hands the case back to a caseworker, never decided.
"""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from approvals import callbacks, services
from approvals.models import AuditEvent, CallbackDelivery, Case, Document, PrefectCommand
from tests.conftest import compile_case, demo_application, receive, text_of
from tests.gate_helpers import carry_out, decide

pytestmark = pytest.mark.django_db

MISSING = "Hyreskontrakt för mars och lönespecifikation för februari."


@pytest.fixture
def returned(org):
    request = compile_case(receive(org, demo_application()))
    decision = carry_out(
        decide(request, org["users"]["anna"], outcome="returned", motivation=MISSING)
    )
    return Case.objects.get(pk=request.case_id), decision


def test_a_return_writes_a_request_for_completion(returned):
    case, decision = returned
    document = Document.objects.get(case=case, kind=Document.Kind.COMPLETION_REQUEST)
    text = text_of(document.pdf)
    assert "Begäran om komplettering" in text and MISSING in text
    assert case.completion_due is not None and case.completion_due.isoformat() in text
    assert "aldrig automatiskt" in text  # what happens if nothing comes
    assert case.status == Case.Status.RETURNED


def test_the_status_api_shows_what_is_missing_and_the_document(returned, client, token):
    case, _ = returned
    headers = {"Authorization": f"Bearer {token}"}
    status = client.get(f"/api/v1/applications/{case.pk}/", headers=headers).json()
    assert status["status"] == "returned"
    assert status["completion"] == {"missing": MISSING, "due": case.completion_due.isoformat()}
    [document] = [d for d in status["documents"] if d["kind"] == "completion_request"]
    pdf = client.get(document["url"], headers=headers)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert MISSING in text_of(pdf.content)


def test_another_account_cannot_fetch_the_document(returned, client, org):
    from django.contrib.auth.models import User

    from municipality.models import ApiToken, Staff

    case, _ = returned
    other = User.objects.create_user("annat-system")
    Staff.objects.create(user=other, kind=Staff.Kind.INTEGRATION, role=Staff.Role.SYSTEM)
    ApiToken.objects.create(user=other, name="x", token_sha256=ApiToken.hash("rf_other"))
    document = Document.objects.get(case=case, kind="completion_request")
    url = f"/api/v1/applications/{case.pk}/documents/{document.pk}/"
    assert client.get(url, headers={"Authorization": "Bearer rf_other"}).status_code == 404


# --- callbacks ---------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    fail_next = 0

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).fail_next:
            type(self).fail_next -= 1
            self.send_response(503)
            self.end_headers()
            return
        type(self).received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    _Receiver.fail_next = 0
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()


def test_callbacks_are_signed_and_retried(org, client, token, receiver):
    url, handler = receiver
    headers = {"Authorization": f"Bearer {token}"}
    registered = client.put(
        "/api/v1/callback/", {"url": url}, content_type="application/json", headers=headers
    )
    assert registered.status_code == 200, registered.content
    secret = registered.json()["secret"]
    request = compile_case(receive(org, demo_application()))
    # The request reached the inbox: one callback waits in the outbox.
    delivery = CallbackDelivery.objects.get(case=request.case, event="request.opened")
    handler.fail_next = 1
    assert callbacks.callbacks_deliver_due() == (0, 1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    CallbackDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    assert callbacks.callbacks_deliver_due() == (1, 0)
    [(sent_headers, body)] = handler.received
    assert callbacks.signature_valid(
        secret=secret, header=sent_headers["X-Robotfabrik-Signature"], body=body
    )
    assert not callbacks.signature_valid(
        secret=secret, header=sent_headers["X-Robotfabrik-Signature"], body=body + b" "
    )
    payload = json.loads(body)
    assert payload["event"] == "request.opened"
    assert payload["case"] == {
        "id": request.case_id,
        "external_ref": request.case.external_ref,
        "process": "ekonomiskt-bistand",
        "status": "awaiting_decision",
        "status_url": payload["case"]["status_url"],
    }
    # Ids and status only: no personal data in the callback.
    assert request.case.applicant_personnummer not in body.decode()


def test_callback_url_must_be_a_url(client, token, org):
    response = client.put(
        "/api/v1/callback/",
        {"url": "not a url"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code in (400, 422)


# --- the deadline ------------------------------------------------------------------------


def test_a_passed_deadline_hands_the_case_back_to_a_person(returned):
    case, _ = returned
    after = case.completion_due + timedelta(days=1)
    assert services.completion_deadlines_check(today=case.completion_due) == 0
    assert services.completion_deadlines_check(today=after) == 1
    assert services.completion_deadlines_check(today=after) == 0  # once
    command = PrefectCommand.objects.get(case=case, payload__run_input__deadline_passed=True)
    assert command.payload["run_input"] == {"case_id": case.pk, "deadline_passed": True}
    assert AuditEvent.objects.filter(case=case, kind="completion.deadline_passed").count() == 1
    # The flow's check after resume, then the robot compiles material for a person again.
    services.completion_deadline_verify(case_id=case.pk)
    request = compile_case(Case.objects.get(pk=case.pk))
    assert request.material.flags[0]["code"] == "completion_deadline_passed"
    assert Case.objects.get(pk=case.pk).status == Case.Status.AWAITING_DECISION


def test_a_deadline_claim_before_the_deadline_is_refused(returned):
    case, _ = returned
    with pytest.raises(services.ServiceError):
        services.completion_deadline_verify(case_id=case.pk)
    assert Case.objects.get(pk=case.pk).status == Case.Status.RETURNED
