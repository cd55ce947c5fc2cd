"""The watchdog restarts stuck robots, bounded, and hands the rest to operators (issue 16).

The judgement is tested here with the flow-run states as Prefect reports them, given
per case; tests/e2e/test_watchdog.py runs it against a real Prefect server.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals import watchdog
from approvals.models import AuditEvent, Case, PrefectCommand
from approvals.services.errors import ServiceError
from tests.approvals.core_helpers import core_open

pytestmark = pytest.mark.django_db

RUN = "11111111-1111-1111-1111-111111111111"


def _started(core_org, ref="w-1"):
    case = core_open(core_org, ref=ref)
    Case.objects.filter(pk=case.pk).update(flow_run_id=RUN, status=Case.Status.PROCESSING)
    PrefectCommand.objects.filter(case=case).update(status=PrefectCommand.Status.DONE)
    return Case.objects.get(pk=case.pk)


def _states(kind, minutes_ago=0):
    since = timezone.now() - timedelta(minutes=minutes_ago)
    return lambda flow_run_id: (kind, since)


@pytest.mark.parametrize("kind", ["CRASHED", "FAILED", "CANCELLED"])
def test_a_run_that_ended_badly_is_started_again(core_org, kind, monkeypatch):
    monkeypatch.setattr("approvals.prefect_gateway.flow_run_mark_superseded", lambda *a, **k: None)
    case = _started(core_org)
    report = watchdog.watchdog_run(state_of=_states(kind))
    assert report.restarted == [case.pk]
    case.refresh_from_db()
    assert case.robot_attempts == 2
    start = PrefectCommand.objects.get(case=case, status="pending")
    assert start.payload == {"case_id": case.pk, "attempt": 2}
    assert AuditEvent.objects.get(case=case, kind="robot.restarted").actor_label == "robot:watchdog"


def test_a_run_without_progress_is_marked_cancelled_and_restarted(core_org, monkeypatch):
    crashed = []
    monkeypatch.setattr(
        "approvals.prefect_gateway.flow_run_mark_superseded",
        lambda flow_run_id, message: crashed.append(str(flow_run_id)),
    )
    case = _started(core_org)
    assert watchdog.watchdog_run(state_of=_states("RUNNING", minutes_ago=1)).restarted == []
    assert watchdog.watchdog_run(state_of=_states("RUNNING", minutes_ago=30)).restarted == [case.pk]
    assert crashed == [RUN]


def test_a_suspended_or_healthy_run_is_left_alone(core_org):
    _started(core_org)
    for kind in ("PAUSED", "COMPLETED", "RUNNING"):
        assert watchdog.watchdog_run(state_of=_states(kind)).restarted == []
    assert not AuditEvent.objects.filter(kind="robot.restarted").exists()


def test_unknown_state_while_prefect_is_down_changes_nothing(core_org):
    _started(core_org)
    report = watchdog.watchdog_run(state_of=lambda run: None)
    assert (report.unknown, report.restarted) == (1, [])


def test_attempts_are_bounded_with_back_off_then_operators_take_over(core_org, monkeypatch):
    monkeypatch.setattr("approvals.prefect_gateway.flow_run_mark_superseded", lambda *a, **k: None)
    case = _started(core_org)
    now = timezone.now()
    crashed = _states("CRASHED")
    for step in range(2):
        PrefectCommand.objects.filter(case=case).update(status=PrefectCommand.Status.DONE)
        report = watchdog.watchdog_run(now=now + timedelta(hours=step), state_of=crashed)
        assert report.restarted == [case.pk]
    PrefectCommand.objects.filter(case=case).update(status=PrefectCommand.Status.DONE)
    # Within the back-off nothing happens; after it the case goes to the operators.
    # (Restarts are recorded at the real time, about `now`; the back-off counts from there.)
    within = watchdog.watchdog_run(now=now + timedelta(minutes=1), state_of=crashed)
    assert (within.restarted, within.handed_to_operator) == ([], [])
    report = watchdog.watchdog_run(now=now + timedelta(hours=3), state_of=crashed)
    assert report.handed_to_operator == [case.pk]
    case.refresh_from_db()
    assert (case.status, case.robot_attempts) == (Case.Status.FAILED, 3)
    assert case in watchdog.cases_needing_attention()
    # Said once, however often the watchdog runs.
    watchdog.watchdog_run(now=now + timedelta(hours=4), state_of=crashed)
    assert AuditEvent.objects.filter(case=case, kind="robot.needs_operator").count() == 1


def test_an_operator_restarts_with_a_reason_on_the_trail(core_org, org, client):
    case = _started(core_org)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.FAILED)
    otto = org["users"]["otto"]
    with pytest.raises(ServiceError) as exc:
        watchdog.operator_restart(case_id=case.pk, user=otto, reason=" ")
    assert exc.value.code == watchdog.RESTART_REASON_MISSING
    with pytest.raises(ServiceError) as exc:
        watchdog.operator_restart(case_id=case.pk, user=org["users"]["anna"], reason="x")
    assert exc.value.code == watchdog.RESTART_NOT_ALLOWED
    client.force_login(otto)
    page = client.get("/operations/").content.decode()
    assert f'data-testid="attention-{case.pk}"' in page
    response = client.post(
        f"/operations/cases/{case.pk}/restart/", {"reason": "Registret var nere."}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(case=case, kind="robot.restarted")
    assert event.actor == otto and event.data["reason"] == "Registret var nere."
    assert PrefectCommand.objects.get(case=case, status="pending").payload["attempt"] == 2


def test_silence_back_off_and_attempts_come_from_the_settings(core_org, settings, monkeypatch):
    """The fault tests shorten the watchdog to seconds through the settings (env)."""
    monkeypatch.setattr("approvals.prefect_gateway.flow_run_mark_superseded", lambda *a, **k: None)
    settings.WATCHDOG_SILENCE_SECONDS = 20
    settings.WATCHDOG_BACKOFF_SECONDS = 5
    settings.WATCHDOG_MAX_ATTEMPTS = 2
    case = _started(core_org)
    quiet = lambda seconds: lambda run: ("RUNNING", timezone.now() - timedelta(seconds=seconds))  # noqa: E731
    assert watchdog.watchdog_run(state_of=quiet(10)).restarted == []
    assert watchdog.watchdog_run(state_of=quiet(30)).restarted == [case.pk]
    PrefectCommand.objects.filter(case=case).update(status=PrefectCommand.Status.DONE)
    now = timezone.now()
    # Within the 5 s back-off nothing happens; after it, two attempts are the limit.
    assert watchdog.watchdog_run(now=now + timedelta(seconds=2), state_of=quiet(30)) == (
        watchdog.WatchdogReport(checked=1)
    )
    later = watchdog.watchdog_run(now=now + timedelta(seconds=60), state_of=_states("CRASHED"))
    assert later.handed_to_operator == [case.pk]


def test_a_run_waiting_in_the_queue_is_never_restarted(core_org):
    """Scheduled is a backlog, not a dead process: a new run would queue behind it."""
    _started(core_org)
    report = watchdog.watchdog_run(state_of=_states("SCHEDULED", minutes_ago=120))
    assert (report.checked, report.restarted) == (1, [])
