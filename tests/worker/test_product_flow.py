"""The product's own flow (ekonomiskt bistånd) on the warm worker, end to end.

The same path as tests/e2e/test_spine.py, with `python -m flows.worker` executing the
runs instead of `python -m flows.serve`: intake → a forked child compiles and suspends →
a signature resumes it → another forked child writes the letter. The flow is found the
way production finds it (the registry's ProcessSpec.flow, else the legacy entrypoint).
"""

import pytest

from approvals.models import Case, Decision, Document
from municipality.demo import demo_organisation_load
from tests.conftest import kr, text_of
from tests.e2e.conftest import wait_for_state
from tests.e2e.test_spine import read_and_decide, submit, wait_suspended

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


@pytest.fixture
def warm_live(django_db_setup, warm_server, start_worker, settings, monkeypatch):
    from municipality import runtime

    settings.PREFECT_START_ON_COMMIT = True
    settings.REGISTER_RETRY_DELAY_SECONDS = 0
    env = {**warm_server["env"], **runtime.database_env(), "REGISTER_RETRY_DELAY_SECONDS": "0"}
    env.pop("ROBOTFABRIK_WARM_FLOWS")
    monkeypatch.setitem(warm_server, "env", env)
    worker = start_worker("warm-product", limit=2)
    demo_organisation_load()
    return {**warm_server, "logs": warm_server["home"], "worker": worker}


def test_application_to_letter_on_the_warm_worker(warm_live, api_post, client):
    """Both legs of a case run in children of the worker's fork server and the letter
    is written once, naming the signer."""
    case = wait_suspended(submit(api_post, "etj-2026-000101"), warm_live)
    assert case.status == Case.Status.AWAITING_DECISION
    anna = Case.objects.model._meta.apps.get_model("auth", "User").objects.get(username="anna")
    response = read_and_decide(client, anna, case, outcome="approved")
    assert response.status_code == 302
    decision = Decision.objects.get(request__case=case)
    wait_for_state(case.flow_run_id, {"COMPLETED"}, logs=None)
    case.refresh_from_db()
    assert case.status == Case.Status.DECIDED
    letters = Document.objects.filter(decision=decision, kind="decision_letter")
    assert letters.count() == 1
    text = text_of(letters.get().pdf)
    assert "Anna Lind" in text and kr(decision.authority_amount) in text
    log = warm_live["worker"].log.read_text()
    assert f"submitting flow run '{case.flow_run_id}'" in log
    assert log.count(f"submitting flow run '{case.flow_run_id}'") == 2  # intake leg + resume leg
