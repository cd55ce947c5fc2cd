"""End to end through a real Prefect server: self-service request → flow run → certificate,
and an exception suspended in the flow, settled by HR on the page, resumed and closed."""

import re
import time

import pytest
from django.contrib.auth.models import User

from approvals.audit import audit_verify
from approvals.models import ApprovalRequest, Case, Document
from approvals.printing import pdf_text
from flows.anstallningsintyg.models import Verification
from municipality.demo import demo_organisation_load
from tests.e2e.conftest import wait_for, wait_for_state

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PERSONAL = ("199107152382", "19910715-2382", "910715", "Eva Holm", "199711242389", "Klara Wallin")


@pytest.fixture
def live(prefect_stack, settings):
    settings.PREFECT_START_ON_COMMIT = True
    demo_organisation_load()
    return prefect_stack


def _ask(client, username: str) -> Case:
    client.force_login(User.objects.get(username=username))
    before = list(Case.objects.values_list("pk", flat=True))
    assert client.post("/p/anstallningsintyg/", {"kind": "anstallningsintyg"}).status_code == 302
    case = Case.objects.exclude(pk__in=before).get(process="anstallningsintyg")
    wait_for(lambda: Case.objects.get(pk=case.pk).flow_run_id, what="flow run id")
    case.refresh_from_db()
    return case


def _prefect_text(home) -> str:
    return "\n".join(p.read_bytes().decode("latin-1") for p in home.rglob("*") if p.is_file())


@pytest.mark.timeout(180)
def test_self_service_request_and_an_exception_run_through_prefect(live, client):
    """Eva's request is issued by the flow; Klara's suspends as an exception until HR closes it."""
    started = time.monotonic()
    eva_case = _ask(client, "eva")
    karin_case = _ask(client, "klara")

    wait_for_state(eva_case.flow_run_id, {"COMPLETED"}, timeout=80, logs=live["logs"])
    eva_case.refresh_from_db()
    assert eva_case.status == Case.Status.COMPLETED
    document = Document.objects.get(case=eva_case, kind=Document.Kind.CERTIFICATE)
    verification = Verification.objects.get(document=document)
    assert "Eva Holm" in " ".join(pdf_text(bytes(document.pdf)).split())
    client.logout()
    check = client.get(f"/p/anstallningsintyg/verify/{verification.code}/")
    assert check.status_code == 200 and document.sha256 in check.content.decode()

    wait_for_state(karin_case.flow_run_id, {"PAUSED"}, timeout=80, logs=live["logs"])
    karin_case.refresh_from_db()
    assert karin_case.status == Case.Status.AWAITING_PERSON
    request = karin_case.requests.get(kind=ApprovalRequest.Kind.EXCEPTION)
    client.force_login(User.objects.get(username="hanna"))
    page = client.get(f"/cases/{karin_case.pk}/").content.decode()
    assert f"/p/anstallningsintyg/exceptions/{request.pk}/settle/" in page
    response = client.post(
        f"/p/anstallningsintyg/exceptions/{request.pk}/settle/",
        {"action": "closed", "reason": "Anställningen avslutas i HR först."},
    )
    assert response.status_code == 302
    wait_for_state(karin_case.flow_run_id, {"COMPLETED"}, timeout=80, logs=live["logs"])
    karin_case.refresh_from_db()
    assert karin_case.status == Case.Status.COMPLETED
    assert not Document.objects.filter(case=karin_case).exists()
    assert audit_verify() is None

    stored = _prefect_text(live["home"])
    assert str(eva_case.flow_run_id) in stored
    for personal in PERSONAL:
        assert personal not in stored
    assert not re.search(r"E100[19]\b", stored)  # not even HR's employee ids
    assert time.monotonic() - started < 90
