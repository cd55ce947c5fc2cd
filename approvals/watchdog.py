"""The watchdog: a case's robot always finishes or is visibly handed to a person.

Run periodically (`manage.py robot_watchdog --every 60`), idempotent, safe on several
machines at once (each case is locked with SKIP LOCKED while it is judged). A case
whose robot is working (received, processing, or failed) but whose flow run is
Crashed, Failed or Cancelled, or has sat Pending/Running without a state change past a
threshold (a killed runner leaves its runs Running forever: Prefect's "zombie" runs) and
shows no other sign of life (a task's state change, a heartbeat event), is started again:
a new flow run for the same case, under a new idempotency key (attempt n). So is a case
waiting for a person whose run died before it suspended or after its signature was
delivered (the new run finds the request, or the signed decision, in Django). Every step
of a robot is idempotent per material version
(approvals.services.robot), so a restart repeats nothing that took effect. After
MAX_ATTEMPTS the case stops, red on the operators' catalogue, until an operator restarts
it with a reason (`operator_restart`). Nothing is ever decided here.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import prefect_gateway
from .access import may_operate
from .audit import Kind, actor_label_for, audit_append
from .models import AuditEvent, Case, PrefectCommand
from .services.errors import ServiceError

# Defaults of settings.WATCHDOG_MAX_ATTEMPTS / WATCHDOG_SILENCE_SECONDS (production values).
MAX_ATTEMPTS = 3
SILENCE_MINUTES = 10
ENDED_BADLY = {"CRASHED", "FAILED", "CANCELLED"}
# Claimed by a worker (Pending) or executing (Running): a run whose process is gone stays
# in these states forever. A Scheduled run waits for a worker's free slot: under a backlog
# it waits long, and a new run would only queue behind it, so it is never restarted (the
# operators' page shows a queue that does not move).
WAITING = {"PENDING", "RUNNING"}
ROBOT_WORKING = (Case.Status.RECEIVED, Case.Status.PROCESSING, Case.Status.FAILED)
# A case waiting for a person has a suspended run (Paused) that the signature resumes. If
# that run died instead (killed after it opened the request, before it suspended), the
# signature could never be carried out: the watchdog gives the case a new run, which
# finds the request and suspends on it (approvals.services.robot.material_compile).
WAITING_FOR_PERSON = (Case.Status.AWAITING_DECISION, Case.Status.AWAITING_PERSON)


def silence_default() -> timedelta:
    """How long a run may show no sign of life (state change, task, heartbeat)."""
    return timedelta(seconds=settings.WATCHDOG_SILENCE_SECONDS)


RESTART_NOT_ALLOWED = "RESTART_NOT_ALLOWED"
RESTART_REASON_MISSING = "RESTART_REASON_MISSING"
RESTART_NOT_NEEDED = "RESTART_NOT_NEEDED"


@dataclass
class WatchdogReport:
    checked: int = 0
    restarted: list[int] = field(default_factory=list)
    handed_to_operator: list[int] = field(default_factory=list)
    unknown: int = 0


def _backoff(attempts: int) -> timedelta:
    base = settings.WATCHDOG_BACKOFF_SECONDS
    return timedelta(seconds=base * 2 ** max(0, attempts - 1))


def _stuck(
    state: tuple[str, object], *, now, silence: timedelta, flow_run_id=None, alive_of=None
) -> str | None:
    """Why a run is stuck, or None. A run that sits Scheduled/Pending/Running past the
    silence is asked for its last sign of life (tasks, heartbeats) before it is judged:
    a long step in a live process is not stuck; a killed runner's runs are."""
    kind, since = state
    if kind in ENDED_BADLY:
        return kind.lower()
    if kind in WAITING and since is not None and now - since > silence:
        alive = alive_of(flow_run_id, since) if alive_of else since
        if alive is None:
            return None  # Prefect cannot say now; judged again on the next round
        alive = max(alive, since)
        if now - alive > silence:
            return f"{kind.lower()} without progress since {alive.isoformat()}"
    return None


def _restart(*, case: Case, reason: str, actor=None, old_state: str | None = None) -> None:
    """Start the case's robot again (inside the caller's transaction, case locked)."""
    if (
        case.flow_run_id
        and old_state
        and old_state.split()[0] in {"running", "pending", "scheduled"}
    ):
        prefect_gateway.flow_run_mark_superseded(
            case.flow_run_id, message="Restarted by the watchdog: no progress"
        )
    attempt = case.robot_attempts + 1
    # A case waiting for a person keeps waiting (its request stays open); the others are
    # the robot's again.
    status = case.status if case.status in WAITING_FOR_PERSON else Case.Status.PROCESSING
    Case.objects.filter(pk=case.pk).update(robot_attempts=attempt, status=status)
    audit_append(
        kind=Kind.ROBOT_RESTARTED,
        actor=actor,
        actor_label=actor_label_for(actor) if actor else "robot:watchdog",
        case=case,
        data={
            "attempt": attempt,
            "previous_flow_run": str(case.flow_run_id) if case.flow_run_id else None,
            "reason": reason[:500],
        },
    )
    prefect_gateway.command_enqueue(
        kind=PrefectCommand.Kind.START, case=case, payload={"case_id": case.pk, "attempt": attempt}
    )


def watchdog_run(
    *,
    now=None,
    state_of=None,
    alive_of=None,
    silence_minutes: float | None = None,
    silence_seconds: float | None = None,
) -> WatchdogReport:
    """Judge every case whose robot should be working, and every case waiting for a
    person whose run is no longer there to be resumed; restart or hand over the stuck.

    `state_of(flow_run_id)` → (state type, since) and `alive_of(flow_run_id, since)` →
    the run's last sign of life default to Prefect's answers; the silence defaults to
    settings.WATCHDOG_SILENCE_SECONDS.
    """
    now = now or timezone.now()
    if state_of is None:
        state_of = prefect_gateway.flow_run_state
        alive_of = alive_of or prefect_gateway.flow_run_last_alive
        states_of = prefect_gateway.flow_run_states
    else:

        def states_of(ids):
            return {str(i): st for i in ids if (st := state_of(i)) is not None}

    if silence_seconds is not None:
        silence = timedelta(seconds=silence_seconds)
    elif silence_minutes is not None:
        silence = timedelta(minutes=silence_minutes)
    else:
        silence = silence_default()
    max_attempts = settings.WATCHDOG_MAX_ATTEMPTS
    report = WatchdogReport()
    candidates = list(
        Case.objects.filter(status__in=ROBOT_WORKING, flow_run_id__isnull=False).values_list(
            "pk", flat=True
        )
    )
    # Cases waiting for a person: one batched question to Prefect; only those whose run
    # ended badly or sits running past the silence are judged one by one.
    waiting = dict(
        Case.objects.filter(status__in=WAITING_FOR_PERSON, flow_run_id__isnull=False).values_list(
            "flow_run_id", "pk"
        )
    )
    if waiting:
        states = states_of(list(waiting)) or {}
        candidates += [
            waiting[run_id]
            for run_id in waiting
            if (st := states.get(str(run_id)))
            and (st[0] in ENDED_BADLY or (st[0] in WAITING and now - st[1] > silence))
        ]
    for case_id in candidates:
        # A start still waiting in the outbox is the outbox's work, not a stuck robot.
        if PrefectCommand.objects.filter(
            case_id=case_id, kind=PrefectCommand.Kind.START, status=PrefectCommand.Status.PENDING
        ).exists():
            continue
        with transaction.atomic():
            case = (
                Case.objects.select_for_update(skip_locked=True)
                .filter(pk=case_id, status__in=ROBOT_WORKING + WAITING_FOR_PERSON)
                .first()
            )
            if case is None:
                continue  # another watchdog is judging it, or it moved on
            report.checked += 1
            state = state_of(case.flow_run_id)
            if state is None:
                report.unknown += 1
                continue
            stuck = _stuck(
                state, now=now, silence=silence, flow_run_id=case.flow_run_id, alive_of=alive_of
            )
            if stuck is None:
                continue
            last = (
                AuditEvent.objects.filter(case=case, kind=Kind.ROBOT_RESTARTED)
                .order_by("-seq")
                .values_list("created_at", flat=True)
                .first()
            )
            if last is not None and now - last < _backoff(case.robot_attempts):
                continue
            if case.robot_attempts >= max_attempts:
                if not AuditEvent.objects.filter(
                    case=case, kind=Kind.ROBOT_NEEDS_OPERATOR, data__attempts=case.robot_attempts
                ).exists():
                    if case.status in ROBOT_WORKING:
                        Case.objects.filter(pk=case.pk).update(status=Case.Status.FAILED)
                    audit_append(
                        kind=Kind.ROBOT_NEEDS_OPERATOR,
                        actor_label="robot:watchdog",
                        case=case,
                        data={"attempts": case.robot_attempts, "state": stuck},
                    )
                    report.handed_to_operator.append(case.pk)
                continue
            _restart(case=case, reason=f"flow run {stuck}", old_state=stuck)
            report.restarted.append(case.pk)
    return report


def cases_needing_attention(*, now=None):
    """Cases whose robot stopped (failed, or handed over by the watchdog), and those whose
    robot shows no sign of life (approvals.operations.cases_stuck): the operators' list."""
    from .operations import cases_stuck

    stuck = cases_stuck(now=now or timezone.now()).values("pk")
    return Case.objects.filter(Q(status=Case.Status.FAILED) | Q(pk__in=stuck)).order_by(
        "received_at"
    )


def operator_restart(*, case_id: int, user, reason: str) -> Case:
    """An operator starts a stopped case's robot again, with a reason on the trail."""
    # Only the operations grant held by a human employee; everyone else is refused alike.
    if not may_operate(user):
        raise ServiceError(RESTART_NOT_ALLOWED, "Only operators restart robots.")
    if not reason.strip():
        raise ServiceError(RESTART_REASON_MISSING, "Write why the robot is restarted.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        # A case that is waiting for a person, or ended, needs no robot restart.
        if case.status not in ROBOT_WORKING:
            raise ServiceError(RESTART_NOT_NEEDED, "This case's robot is not stopped.")
        _restart(case=case, reason=reason.strip(), actor=user)
    return case
