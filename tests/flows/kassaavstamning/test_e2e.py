"""End to end through a real Prefect server: an import becomes an attested difference.

POST /api/v1/imports/ opens the import case; its flow run reconciles (the matched day is
the robot's act) and opens the difference case; that case's own flow run compiles the
material and suspends at the gate; karin attests on the case page; the run resumes,
verifies the signature and writes the attest record.
"""

import pytest
from django.contrib.auth.models import User

from approvals.audit import audit_verify
from approvals.models import AuditEvent, Case, Decision, Document
from municipality.demo import demo_organisation_load
from tests.conftest import text_of
from tests.e2e.conftest import wait_for, wait_for_state
from tests.e2e.test_spine import prefect_storage_text
from tests.gate_helpers import login_fresh

from .helpers import post_import, small_import

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live(prefect_stack, settings):
    settings.PREFECT_START_ON_COMMIT = True
    demo_organisation_load()
    return prefect_stack


def flow_run_of(case_id: int, live) -> str:
    run_id = wait_for(
        lambda: Case.objects.get(pk=case_id).flow_run_id, what=f"flow run of case {case_id}"
    )
    return str(run_id)


def test_import_to_attested_difference(live, client):
    """Import → import run completes → difference case suspended → attest → record."""
    response = post_import(client, small_import(missing_deposit_kr=2345))
    assert response.status_code == 201, response.content
    import_case = Case.objects.get(pk=response.json()["id"])
    wait_for_state(flow_run_of(import_case.pk, live), {"COMPLETED"}, timeout=60, logs=live["logs"])
    import_case.refresh_from_db()
    assert import_case.status == Case.Status.COMPLETED
    steps_done = AuditEvent.objects.filter(case=import_case, kind="robot.step")
    assert [e.data["inputs"]["date"] for e in steps_done if e.data["step"] == "day-matched"] == [
        "2026-11-02"
    ]

    difference = Case.objects.get(
        process="kassaavstamning", external_ref="kassa-bibliotek-2026-11-03"
    )
    run_id = flow_run_of(difference.pk, live)
    wait_for_state(run_id, {"PAUSED"}, timeout=60, logs=live["logs"])
    difference.refresh_from_db()
    assert difference.status == Case.Status.AWAITING_DECISION
    request = difference.requests.get(status="open")
    assert request.authority_amount == 2345

    karin = User.objects.get(username="karin")
    login_fresh(client, karin)
    assert client.get(f"/cases/{difference.pk}/").status_code == 200
    material = request.material
    assert client.get(f"/material/{material.pk}/").status_code == 200
    answer = client.post(
        f"/requests/{request.pk}/decide/",
        {"outcome": "approved", "material_sha256": material.sha256, "motivation": "", "amount": ""},
    )
    assert answer.status_code == 302
    decision = Decision.objects.get(request=request)
    assert decision.signer == karin and decision.authority_amount == 2345

    wait_for_state(run_id, {"COMPLETED"}, timeout=60, logs=live["logs"])
    difference.refresh_from_db()
    assert difference.status == Case.Status.DECIDED
    record = Document.objects.get(decision=decision)
    text = text_of(record.pdf)
    assert "Attest av kassadifferens" in text and "Karin Kassör" in text and "2 345 kr" in text
    assert audit_verify() is None
    # Prefect saw ids and hashes, never the files' texts.
    stored = prefect_storage_text(live["home"])
    assert run_id in stored
    assert "DEP BIBL" not in stored and "BIBL-1" not in stored
