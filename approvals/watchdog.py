"""The watchdog: a case's robot always finishes or is visibly handed to a person.

Run periodically (`manage.py robot_watchdog --every 60`), idempotent, safe on several
machines at once (each case is locked with SKIP LOCKED while it is judged). A case
whose robot is working (received, processing, or failed) but whose flow run is
Crashed, Failed or Cancelled, or has sat Pending/Running without a state change (of the
run or any of its task runs) past a threshold (a killed runner leaves its runs Running
forever: Prefect's "zombie" runs), is started again: a new flow run for the same case, under a new
idempotency key (attempt n). Every step of a robot is idempotent per material version
(approvals.services.robot), so a restart repeats nothing that took effect. After
MAX_ATTEMPTS the case stops, red on the operators' catalogue, until an operator restarts
it with a reason (`operator_restart`). Nothing is ever decided here.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
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


def _stuck(state: tuple[str, object], *, now, silence: timedelta) -> str | None:
    kind, since = state
    if kind in ENDED_BADLY:
        return kind.lower()
    if kind in WAITING and since is not None and now - since > silence:
        return f"{kind.lower()} without progress since {since.isoformat()}"
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
    Case.objects.filter(pk=case.pk).update(robot_attempts=attempt, status=Case.Status.PROCESSING)
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
    *, now=None, state_of=None, silence_minutes: float | None = None
) -> WatchdogReport:
    """Judge every case whose robot should be working; restart or hand over the stuck ones.

    The silence threshold is `silence_minutes` when given, else WATCHDOG_SILENCE_SECONDS.
    """
    now = now or timezone.now()
    state_of = state_of or prefect_gateway.flow_run_state
    if silence_minutes is None:
        silence = timedelta(seconds=settings.WATCHDOG_SILENCE_SECONDS)
    else:
        silence = timedelta(minutes=silence_minutes)
    max_attempts = settings.WATCHDOG_MAX_ATTEMPTS
    report = WatchdogReport()
    candidates = Case.objects.filter(status__in=ROBOT_WORKING, flow_run_id__isnull=False)
    for case_id in candidates.values_list("pk", flat=True):
        # A start still waiting in the outbox is the outbox's work, not a stuck robot.
        if PrefectCommand.objects.filter(
            case_id=case_id, kind=PrefectCommand.Kind.START, status=PrefectCommand.Status.PENDING
        ).exists():
            continue
        with transaction.atomic():
            case = (
                Case.objects.select_for_update(skip_locked=True)
                .filter(pk=case_id, status__in=ROBOT_WORKING)
                .first()
            )
            if case is None:
                continue  # another watchdog is judging it, or it moved on
            report.checked += 1
            state = state_of(case.flow_run_id)
            if state is None:
                report.unknown += 1
                continue
            stuck = _stuck(state, now=now, silence=silence)
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


def cases_needing_attention():
    """Cases whose robot stopped (failed, or handed over by the watchdog): the operators' list."""
    return Case.objects.filter(status=Case.Status.FAILED).order_by("received_at")


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
