"""Return for completion: the applicant's supplement recompiles the material and a human decides again."""

import pytest

from approvals.models import AuditEvent, Case, Document
from approvals.printing import pdf_text
from tests.conftest import kr, text_of
from tests.e2e.conftest import wait_for, wait_for_state
from tests.e2e.test_spine import live, read_and_decide, submit, wait_suspended  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_return_supplement_recompile_and_approve(live, api_post, client):  # noqa: F811
    """A returned case waits for a supplement, gets material v2 with a new hash, then is decided."""
    from django.contrib.auth.models import User

    case = wait_suspended(submit(api_post, "etj-2026-000103"), live)
    v1 = case.materials.get(version=1)
    erik = User.objects.get(username="erik")
    read_and_decide(
        client,
        erik,
        case,
        outcome="returned",
        motivation="Hyreskontrakt och kvitto på elräkningen saknas.",
    )
    wait_for(lambda: Case.objects.get(pk=case.pk).status == Case.Status.RETURNED, what="returned")
    wait_for_state(case.flow_run_id, {"PAUSED"}, logs=live["logs"])

    response = api_post(
        f"/api/v1/applications/{case.pk}/supplements/",
        {"costs": {"rent": 5900, "electricity": 410}, "message": "Hyreskontrakt bifogat."},
    )
    assert response.status_code == 202, response.content
    wait_for(lambda: case.materials.filter(version=2).exists(), what="material v2", timeout=90)
    wait_for_state(case.flow_run_id, {"PAUSED"}, logs=live["logs"])
    v2 = case.materials.get(version=2)
    assert v2.sha256 != v1.sha256
    assert kr(5900) in text_of(v2.pdf) and kr(5900) not in text_of(v1.pdf)
    case.refresh_from_db()
    assert case.status == Case.Status.AWAITING_DECISION

    # The old material can no longer be signed.
    request = case.requests.get(status="open")
    assert request.material == v2

    read_and_decide(client, erik, case, outcome="approved")
    wait_for_state(case.flow_run_id, {"COMPLETED"}, logs=live["logs"])
    letter = Document.objects.get(case=case, kind="decision_letter")
    assert "Bifall" in pdf_text(bytes(letter.pdf))
    kinds = list(AuditEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds.count("material.compiled") == 2
    assert "case.returned" in kinds and "supplement.received" in kinds
