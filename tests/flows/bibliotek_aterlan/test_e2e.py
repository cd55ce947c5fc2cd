"""End to end through a real Prefect server: the nightly deployment renews, queues the refused
loans, a librarian settles one on the page, and its flow run completes the case."""

import time

import pytest

from approvals.models import AuditEvent, Case, ExceptionSettlement
from flows.bibliotek_aterlan.models import LoanRenewal
from flows.bibliotek_aterlan.process import PROCESS, SLUG
from municipality import runtime
from municipality.demo import demo_organisation_load
from tests.e2e.conftest import wait_for, wait_for_state

from .night_helpers import EXCEPTION_REASONS, RENEWED_ITEMS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The test's own part (the Prefect stack starts once per session, before it).
BOUND_SECONDS = 90


@pytest.fixture
def live(prefect_stack, settings):
    settings.PREFECT_START_ON_COMMIT = True
    demo_organisation_load()
    runtime.wait_for_deployment(PROCESS.deployment_name, timeout=60)
    return prefect_stack


def prefect_text(home) -> str:
    """Prefect's own database and result storage (the runner's log holds the console
    e-mails of the demo's mail backend, which is not Prefect)."""
    paths = [p for p in (home / "storage").rglob("*") if p.is_file()]
    paths += [p for p in home.glob("prefect.db*") if p.is_file()]
    return "\n".join(p.read_bytes().decode("latin-1") for p in paths)


def test_nightly_deployment_to_a_settled_exception(live, web):
    """A run of the deployment without case_id renews five loans and opens four exception
    cases whose runs wait; Lena settles one and its run completes the case as the robot."""
    from prefect.deployments import run_deployment

    started = time.monotonic()
    night_run = run_deployment(
        name=PROCESS.deployment_name, parameters={}, timeout=0, as_subflow=False, _sync=True
    )
    wait_for_state(night_run.id, {"COMPLETED"}, timeout=60, logs=live["logs"])

    night_case = Case.objects.get(process=SLUG, data__kind="night")
    assert night_case.status == Case.Status.COMPLETED
    assert str(night_case.flow_run_id) == str(night_run.id)
    rows = LoanRenewal.objects.all()
    assert {r.item_id for r in rows if r.status == "renewed"} == RENEWED_ITEMS
    assert {r.item_id: r.reason for r in rows if r.status == "exception"} == EXCEPTION_REASONS
    assert all(r.notice_sent_at for r in rows)

    reserved = LoanRenewal.objects.get(item_id="3900000000028")
    case = reserved.exception_case
    assert Case.objects.filter(process=SLUG, data__kind="loan").count() == 4
    wait_for(lambda: Case.objects.get(pk=case.pk).flow_run_id, timeout=30, what="flow run")
    case.refresh_from_db()
    wait_for_state(case.flow_run_id, {"PAUSED"}, timeout=30, logs=live["logs"])
    request = case.requests.get(kind="exception", status="open")

    web.force_login(
        Case.objects.model._meta.apps.get_model("auth", "User").objects.get(username="lena")
    )
    response = web.post(
        f"/p/{SLUG}/requests/{request.pk}/settle/",
        {"action": "let_run_out", "reason": "Reserverad av annan; ska tillbaka."},
    )
    assert response.status_code == 302
    wait_for_state(case.flow_run_id, {"COMPLETED"}, timeout=30, logs=live["logs"])
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    settlement = ExceptionSettlement.objects.get(request=request)
    step = AuditEvent.objects.get(case=case, kind="robot.step", data__step="settlement")
    assert step.data["flow_run"] == str(case.flow_run_id)
    assert step.data["inputs"] == {"settlement": settlement.pk}
    reserved.refresh_from_db()
    assert reserved.settled_action == "let_run_out"
    assert time.monotonic() - started < BOUND_SECONDS

    # Card numbers, names and addresses never reached Prefect.
    stored = prefect_text(live["home"])
    assert str(night_run.id) in stored or str(case.flow_run_id) in stored
    for row in rows:
        for value in (row.patron_id, row.patron_name, row.patron_email):
            assert value not in stored, value
