"""The watchdog against a real Prefect server: a crashed run is replaced and the case
reaches a person once, with one material version and one request (issue 16)."""

import pytest

from approvals import prefect_gateway, watchdog
from approvals.models import ApprovalRequest, Case, Material, PrefectCommand
from tests.conftest import PREFECT_DEPLOYMENT, demo_application, receive
from tests.e2e.conftest import wait_for, wait_for_state
from tests.e2e.test_spine import live, org_for_inprocess  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_crashed_run_is_restarted_and_the_case_reaches_a_person_once(live, org_for_inprocess):  # noqa: F811
    from prefect import get_client
    from prefect.states import Crashed

    application = demo_application("etj-2026-000103")
    application["external_ref"] = "etj-2026-watchdog"
    case = receive(org_for_inprocess, application)
    # A run that crashed before doing anything (its process killed at start).
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(PREFECT_DEPLOYMENT)
        crashed = client.create_flow_run_from_deployment(
            deployment.id, parameters={"case_id": case.pk}, state=Crashed(message="killed")
        )
    Case.objects.filter(pk=case.pk).update(flow_run_id=crashed.id, status=Case.Status.PROCESSING)
    PrefectCommand.objects.filter(case=case).update(status=PrefectCommand.Status.DONE)

    report = watchdog.watchdog_run()
    assert report.restarted == [case.pk]
    assert prefect_gateway.commands_deliver_due() == (1, 0)
    case.refresh_from_db()
    assert case.flow_run_id != crashed.id and case.robot_attempts == 2
    wait_for_state(case.flow_run_id, {"PAUSED"}, logs=live["logs"])
    wait_for(
        lambda: ApprovalRequest.objects.filter(case=case, status="open").exists(),
        what="the request in the inbox",
    )
    assert Material.objects.filter(case=case).count() == 1
    # A second watchdog round finds nothing to do: the new run waits for a person.
    assert watchdog.watchdog_run().restarted == []


def test_a_running_flow_run_makes_progress_while_its_tasks_change_state(live):  # noqa: F811
    """The watchdog's silence counts from the latest state change of the run or of any of
    its task runs: a long Running run that still finishes tasks is not stuck."""
    import time

    from prefect import get_client, task
    from prefect.states import Completed, Running

    @task(name="progress-probe")
    def probe():
        return None

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(PREFECT_DEPLOYMENT)
        run = client.create_flow_run_from_deployment(
            deployment.id, parameters={"case_id": 0}, state=Running()
        )
        entered = client.read_flow_run(run.id).state.timestamp
        assert prefect_gateway.flow_run_state(run.id) == ("RUNNING", entered)
        time.sleep(1.1)
        task_run = client.create_task_run(
            probe, flow_run_id=run.id, dynamic_key="0", state=Completed()
        )
        finished = client.read_task_run(task_run.id).state.timestamp
        # Ended, so the worker does not pick up a run no process executes.
        assert finished > entered
        assert prefect_gateway.flow_run_state(run.id) == ("RUNNING", finished)
        client.set_flow_run_state(run.id, Completed(), force=True)
