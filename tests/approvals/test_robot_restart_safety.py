"""What makes a restarted robot safe (issue 16), judged without Prefect: each step at most
once per version, the watchdog's sign-of-life judgement, the operators' stuck cases, and
the kill switch of the fault tests inert outside a local run. tests/faults/ kill real
processes against a real Prefect server."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from approvals import faults, operations, services, watchdog
from approvals.models import ApprovalRequest, Case, Material, PrefectCommand
from municipality.runtime import ROOT
from tests.approvals.core_helpers import core_compile, core_open

pytestmark = pytest.mark.django_db

RUN = "11111111-1111-1111-1111-111111111111"


def _processing(core_org, ref="r-1") -> Case:
    case = core_open(core_org, ref=ref)
    Case.objects.filter(pk=case.pk).update(flow_run_id=RUN, status=Case.Status.PROCESSING)
    PrefectCommand.objects.filter(case=case).update(status=PrefectCommand.Status.DONE)
    return Case.objects.get(pk=case.pk)


def test_a_register_snapshot_is_stored_once_per_version(core_org):
    case = core_open(core_org)
    first = services.register_snapshot_store(
        case_id=case.pk, data={"a": 1}, missing_sources=[], version=1
    )
    again = services.register_snapshot_store(
        case_id=case.pk, data={"a": 2}, missing_sources=["x"], version=1
    )
    assert again.pk == first.pk and again.data == {"a": 1}
    assert services.register_snapshot_for(case_id=case.pk, version=1).pk == first.pk
    second = services.register_snapshot_store(
        case_id=case.pk, data={"a": 2}, missing_sources=[], version=2
    )
    assert second.pk != first.pk and case.register_snapshots.count() == 2


def test_a_version_compiled_again_returns_the_same_request_and_the_case_waits(core_org):
    request = core_compile(core_open(core_org))
    # The watchdog restarted the robot: the case is the robot's again.
    Case.objects.filter(pk=request.case_id).update(status=Case.Status.PROCESSING)
    opened = services.material_compile(
        case_id=request.case_id,
        version=1,
        context={"proposal": {"amount": 1}},
        proposal={"amount": 1},
        flags=[],
        ruleset_version="test-1",
        compiled_by="robot:core-test/compile",
    )
    assert (opened.request_id, opened.material_id) == (request.pk, request.material_id)
    assert Material.objects.filter(case_id=request.case_id).count() == 1
    assert ApprovalRequest.objects.filter(case_id=request.case_id).count() == 1
    assert Case.objects.get(pk=request.case_id).status == Case.Status.AWAITING_DECISION


def test_a_long_step_in_a_live_run_is_not_stuck_a_silent_one_is(core_org, monkeypatch):
    marked = []
    monkeypatch.setattr(
        "approvals.prefect_gateway.flow_run_mark_superseded",
        lambda flow_run_id, message: marked.append(str(flow_run_id)),
    )
    case = _processing(core_org)
    now = timezone.now()
    running_long = lambda run_id: ("RUNNING", now - timedelta(minutes=30))  # noqa: E731
    # A task changed state (or a heartbeat came) a minute ago: alive.
    alive = watchdog.watchdog_run(
        state_of=running_long, alive_of=lambda run_id, since: now - timedelta(minutes=1)
    )
    assert alive.restarted == [] and marked == []
    # Prefect cannot say: judged again later, nothing done.
    unknown = watchdog.watchdog_run(state_of=running_long, alive_of=lambda run_id, since: None)
    assert unknown.restarted == []
    # The last sign of life is older than the silence: a zombie, marked Crashed and replaced.
    silent = watchdog.watchdog_run(
        state_of=running_long, alive_of=lambda run_id, since: now - timedelta(minutes=20)
    )
    assert silent.restarted == [case.pk] and marked == [RUN]


def test_the_silence_comes_from_the_settings(core_org, settings, monkeypatch):
    monkeypatch.setattr("approvals.prefect_gateway.flow_run_mark_superseded", lambda *a, **k: None)
    case = _processing(core_org)
    since = timezone.now() - timedelta(seconds=30)
    state = lambda run_id: ("RUNNING", since)  # noqa: E731
    assert watchdog.watchdog_run(state_of=state).restarted == []  # 600 s by default
    settings.WATCHDOG_SILENCE_SECONDS = 10
    assert watchdog.watchdog_run(state_of=state).restarted == [case.pk]


@pytest.mark.parametrize("kind", ["CRASHED", "RUNNING"])
def test_a_dead_run_of_a_case_waiting_for_a_person_is_replaced(core_org, monkeypatch, kind):
    """Killed after it opened the request but before it suspended: the signature could
    never resume it, so the case gets a new run (which finds its request) and keeps waiting."""
    monkeypatch.setattr("approvals.prefect_gateway.flow_run_mark_superseded", lambda *a, **k: None)
    request = core_compile(core_open(core_org))
    Case.objects.filter(pk=request.case_id).update(flow_run_id=RUN)
    PrefectCommand.objects.filter(case_id=request.case_id).update(status="done")
    long_ago = timezone.now() - timedelta(hours=1)
    report = watchdog.watchdog_run(state_of=lambda run_id: (kind, long_ago))
    assert report.restarted == [request.case_id]
    case = Case.objects.get(pk=request.case_id)
    assert case.status == Case.Status.AWAITING_DECISION and case.robot_attempts == 2
    assert ApprovalRequest.objects.get(pk=request.pk).status == ApprovalRequest.Status.OPEN


def test_a_suspended_run_of_a_waiting_case_is_left_alone(core_org):
    request = core_compile(core_open(core_org))
    Case.objects.filter(pk=request.case_id).update(flow_run_id=RUN)
    PrefectCommand.objects.filter(case_id=request.case_id).update(status="done")
    long_ago = timezone.now() - timedelta(days=3)
    assert watchdog.watchdog_run(state_of=lambda run_id: ("PAUSED", long_ago)).restarted == []


def test_a_silent_case_is_stuck_and_red_until_something_happens_on_it(core_org, settings):
    case = _processing(core_org)
    now = timezone.now()
    settings.WATCHDOG_SILENCE_SECONDS = 60
    assert not operations.cases_stuck(now=now).exists()
    later = now + timedelta(minutes=5)
    assert list(operations.cases_stuck(now=later)) == [case]
    [row] = [p for p in operations.process_catalogue(now=later) if p.slug == case.process]
    assert row.stuck == 1 and row.health.level == operations.Health.RED
    assert operations.Reason.CASES_STUCK in row.health.reasons
    assert case in watchdog.cases_needing_attention(now=later)
    # A start waiting in the outbox is the outbox's to report, not a stuck robot.
    PrefectCommand.objects.create(kind=PrefectCommand.Kind.START, case=case, payload={})
    assert not operations.cases_stuck(now=later).exists()


def test_kill_points_are_named_once_and_inert_unless_asked(settings, monkeypatch):
    with pytest.raises(ValueError):
        faults.kill_point("no-such-step")
    for point in faults.KILL_POINTS:
        faults.kill_point(point)  # no variable set: nothing happens
    # A production run (not local) ignores the variable (were it obeyed, this test's
    # process would die here).
    settings.LOCAL_RUN = False
    monkeypatch.setenv(faults.KILL_ENV, faults.LETTER)
    faults.kill_point(faults.LETTER)


def test_a_kill_point_kills_its_process_once(tmp_path):
    code = (
        "import django; django.setup(); from approvals import faults; "
        "faults.kill_point('letter'); print('alive')"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "municipality.settings",
        faults.KILL_ENV: faults.LETTER,
        faults.ONCE_ENV: str(tmp_path / "once"),
    }
    first = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True)
    assert first.returncode == -9, first.stderr.decode()[-2000:]
    second = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True)
    assert second.returncode == 0 and second.stdout.strip() == b"alive"


def test_the_deploy_check_names_fault_variables(monkeypatch):
    from approvals.checks import fault_injection_not_configured

    assert fault_injection_not_configured(None) == []
    monkeypatch.setenv(faults.KILL_ENV, faults.MATERIAL)
    [warning] = fault_injection_not_configured(None)
    assert warning.id == "approvals.W020" and faults.KILL_ENV in warning.msg
