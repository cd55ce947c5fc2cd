"""A flow-run process killed right after each step of the bistånd robot (issue 16).

The real warm worker runs the real flow against a real Prefect server; the first run
of each case carries ROBOTFABRIK_FAULT_KILL_AFTER=<point> (approvals.faults.KILL_POINTS)
in its job variables, so its process SIGKILLs itself once when it reaches the point.
The watchdog (in-process rounds) restarts what needs restarting; after recovery every
artifact exists once per version: one register snapshot, one material, one request,
and after the signature one letter, even when the kill fell after the letter and
before the run completed.
"""

import json
import time
from collections import Counter

import pytest

from approvals import faults, prefect_gateway, watchdog
from approvals.audit import Kind
from approvals.models import (
    ApprovalRequest,
    AuditEvent,
    Case,
    Decision,
    Document,
    Material,
    PrefectCommand,
    RegisterSnapshot,
)
from tests.conftest import PREFECT_DEPLOYMENT, demo_application, receive
from tests.e2e.test_spine import read_and_decide
from tests.faults.runner_stack import RunnerStack, flow_run, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

BEFORE_THE_GATE = (faults.REGISTER_SNAPSHOT, faults.MATERIAL, faults.REQUEST)
AFTER_THE_LETTER = (faults.LETTER, faults.COMPLETION)
assert BEFORE_THE_GATE + (faults.VERIFIED,) + AFTER_THE_LETTER == faults.KILL_POINTS


@pytest.fixture(scope="module")
def runner(django_db_setup, tmp_path_factory):
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    stack = RunnerStack(tmp_path_factory.mktemp("runner-steps"))
    try:
        stack.start_server()
        with temporary_settings(
            updates={
                PREFECT_API_URL: stack.env["PREFECT_API_URL"],
                PREFECT_API_AUTH_STRING: stack.env["PREFECT_API_AUTH_STRING"],
            }
        ):
            stack.start_worker(limit=2)
            yield stack
    finally:
        stack.stop()


def _state(flow_run_id) -> str:
    return flow_run(flow_run_id).state.type.value


def _start_with_fault(org, runner, point: str, once: str) -> Case:
    """The case received, its first run started with the kill point in its environment."""
    from prefect import get_client

    application = demo_application("etj-2026-000101")
    application["external_ref"] = f"etj-2026-step-{point}"
    case = receive(org, application)
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(PREFECT_DEPLOYMENT)
        run = client.create_flow_run_from_deployment(
            deployment.id,
            parameters={"case_id": case.pk},
            job_variables={"env": {faults.KILL_ENV: point, faults.ONCE_ENV: once}},
        )
    # The run is the case's first one, as the outbox would have started it.
    Case.objects.filter(pk=case.pk).update(flow_run_id=run.id)
    PrefectCommand.objects.filter(case=case).update(status=PrefectCommand.Status.DONE)
    return Case.objects.get(pk=case.pk)


def _signed(client, org, case: Case, run_id: str, runner) -> Decision:
    wait_until(
        lambda: _state(run_id) == "PAUSED",
        timeout=120,
        what="the run at the gate",
        on_fail=runner.log_tail,
    )
    case.refresh_from_db()
    response = read_and_decide(client, org["users"]["anna"], case, outcome="approved")
    assert response.status_code == 302
    return Decision.objects.get(request__case=case)


def _once_per_version(case: Case) -> Counter:
    assert list(RegisterSnapshot.objects.filter(case=case).values_list("version", flat=True)) == [1]
    assert list(Material.objects.filter(case=case).values_list("version", flat=True)) == [1]
    assert ApprovalRequest.objects.filter(case=case).count() == 1
    kinds = Counter(AuditEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds[Kind.MATERIAL_COMPILED] == 1 and kinds[Kind.REQUEST_OPENED] == 1
    return kinds


@pytest.mark.parametrize("point", BEFORE_THE_GATE)
def test_killed_after_a_step_before_the_gate_recovers_once(runner, org, settings, tmp_path, point):
    settings.WATCHDOG_SILENCE_SECONDS = 4
    case = _start_with_fault(org, runner, point, str(tmp_path / "once"))
    first = str(case.flow_run_id)
    wait_until(
        lambda: _state(first) == "CRASHED",
        timeout=120,
        what=f"the run killed at {point!r}",
        on_fail=runner.log_tail,
    )
    killed_at = time.monotonic()
    assert (tmp_path / f"once.{point}").exists()  # the process did kill itself there
    # What the killed process left: a committed step stays, a transaction rolled back.
    left = {
        "snapshots": RegisterSnapshot.objects.filter(case=case).count(),
        "materials": Material.objects.filter(case=case).count(),
        "requests": ApprovalRequest.objects.filter(case=case).count(),
    }
    expected = {
        faults.REGISTER_SNAPSHOT: {"snapshots": 1, "materials": 0, "requests": 0},
        faults.MATERIAL: {"snapshots": 1, "materials": 0, "requests": 0},  # rolled back
        faults.REQUEST: {"snapshots": 1, "materials": 1, "requests": 1},
    }[point]
    assert left == expected

    restarted = []

    def recovered():
        restarted.extend(watchdog.watchdog_run().restarted)
        prefect_gateway.commands_deliver_due()
        current = Case.objects.get(pk=case.pk)
        return (
            str(current.flow_run_id) != first
            and _state(current.flow_run_id) == "PAUSED"
            and ApprovalRequest.objects.filter(case=case, status="open").exists()
        )

    wait_until(
        recovered, timeout=120, every=1, what="the case at a person", on_fail=runner.log_tail
    )
    recovery = time.monotonic() - killed_at
    case.refresh_from_db()
    assert restarted == [case.pk] and case.robot_attempts == 2
    assert case.status == Case.Status.AWAITING_DECISION
    kinds = _once_per_version(case)
    assert kinds[Kind.ROBOT_RESTARTED] == 1
    # The second run took the stored snapshot instead of asking the registers again.
    steps = [
        e.data.get("step")
        for e in AuditEvent.objects.filter(case=case, kind=Kind.ROBOT_STEP).order_by("seq")
    ]
    assert steps.count("gather-register-data") <= 1
    assert watchdog.watchdog_run().restarted == []
    print(f"\nkilled after {point!r}: " + json.dumps({"recovered_after_s": round(recovery, 1)}))


@pytest.mark.parametrize("point", AFTER_THE_LETTER)
def test_killed_after_the_letter_the_letter_exists_once(
    runner, org, settings, tmp_path, client, point
):
    settings.WATCHDOG_SILENCE_SECONDS = 4
    case = _start_with_fault(org, runner, point, str(tmp_path / "once"))
    run_id = str(case.flow_run_id)
    signed_at = time.monotonic()
    decision = _signed(client, org, case, run_id, runner)
    # The resume goes out on commit; the resumed run writes the letter, then dies.
    wait_until(
        lambda: _state(run_id) in ("CRASHED", "COMPLETED"),
        timeout=120,
        what=f"the resumed run killed at {point!r}",
        on_fail=runner.log_tail,
    )
    assert _state(run_id) == "CRASHED"
    assert (tmp_path / f"once.{point}").exists()
    case.refresh_from_db()
    assert case.status == Case.Status.DECIDED
    # Nothing left to do for a robot: the watchdog leaves the decided case alone.
    for _ in range(3):
        assert watchdog.watchdog_run().restarted == []
        prefect_gateway.commands_deliver_due()
    letters = Document.objects.filter(case=case, kind=Document.Kind.DECISION_LETTER)
    assert [d.decision_id for d in letters] == [decision.pk]
    kinds = _once_per_version(case)
    assert kinds[Kind.DECISION_EXECUTED] == 1 and kinds[Kind.DOCUMENT_CREATED] == 1
    assert kinds[Kind.ROBOT_RESTARTED] == 0
    decision.refresh_from_db()
    assert decision.executed_at is not None
    print(
        f"\nkilled after {point!r}: "
        + json.dumps({"signed_to_decided_s": round(time.monotonic() - signed_at, 1)})
    )


def test_killed_after_the_signature_was_verified_the_new_run_carries_it_out_once(
    runner, org, settings, tmp_path, client
):
    """The resume went to the run that died: the restarted run finds the signed decision
    in Django, passes it through the gate and writes the one letter."""
    settings.WATCHDOG_SILENCE_SECONDS = 4
    case = _start_with_fault(org, runner, faults.VERIFIED, str(tmp_path / "once"))
    first = str(case.flow_run_id)
    decision = _signed(client, org, case, first, runner)
    wait_until(
        lambda: _state(first) == "CRASHED",
        timeout=120,
        what="the resumed run killed after the verification",
        on_fail=runner.log_tail,
    )
    killed_at = time.monotonic()
    decision.refresh_from_db()
    assert decision.verified_at is not None and decision.executed_at is None
    assert not Document.objects.filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).status == Case.Status.AWAITING_DECISION

    restarted = []

    def decided():
        restarted.extend(watchdog.watchdog_run().restarted)
        prefect_gateway.commands_deliver_due()
        current = Case.objects.get(pk=case.pk)
        return current.status == Case.Status.DECIDED and _state(current.flow_run_id) == "COMPLETED"

    wait_until(decided, timeout=120, every=1, what="the case decided", on_fail=runner.log_tail)
    recovery = time.monotonic() - killed_at
    assert restarted == [case.pk]
    letters = Document.objects.filter(case=case, kind=Document.Kind.DECISION_LETTER)
    assert [d.decision_id for d in letters] == [decision.pk]
    kinds = _once_per_version(case)
    assert kinds[Kind.DECISION_EXECUTED] == 1 and kinds[Kind.RESUME_VERIFIED] == 1
    assert kinds[Kind.RESUME_REJECTED] == 0
    print(
        f"\nkilled after {faults.VERIFIED!r}: "
        + json.dumps({"recovered_after_s": round(recovery, 1)})
    )
