"""Reads that feed the operators' robot catalogue: volumes, health, time and effect.

Process-level aggregates only: no case, person or personnummer leaves these
functions. Every figure comes from a fixed set of aggregate queries (one per
table), so the page costs the same with ten cases or ten thousand; only the
durations behind the medians are read as rows, and only for the window.
"""

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef, Q, Subquery

from municipality.models import Unit

from .audit import Kind
from .models import ApprovalRequest, AuditEvent, Case, Decision, Material, PrefectCommand
from .registry import registry

WINDOW_DAYS = 30
# A command to Prefect normally leaves the outbox within seconds; one that waits
# this long means the outbox worker or Prefect is in trouble.
PENDING_WATCH_MINUTES = 15
PENDING_STUCK_MINUTES = 60
# The step name case_flow_failed records when a flow run fails or crashes.
FLOW_FAILED_STEP = "flow-failed"


class Health:
    """Traffic-light levels, worst last; the page shows each with its words, not colour only."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class Reason:
    """Why a process is not green; named once so that the page, the JSON and tests agree."""

    CASES_STOPPED = "cases_stopped"
    # The robot should be working on a case but nothing happened on it for the silence
    # (settings.WATCHDOG_SILENCE_SECONDS): its run is probably dead (a killed runner) until
    # the watchdog restarts it.
    CASES_STUCK = "cases_stuck"
    COMMANDS_DEAD = "commands_dead"
    COMMANDS_STUCK = "commands_stuck"
    COMMANDS_WAITING = "commands_waiting"
    RECENT_FAILURES = "recent_failures"


RED_REASONS = (
    Reason.CASES_STOPPED,
    Reason.CASES_STUCK,
    Reason.COMMANDS_DEAD,
    Reason.COMMANDS_STUCK,
)


@dataclass(frozen=True)
class ProcessHealth:
    level: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ProcessOperations:
    """One catalogue row: what the process is, how much it does, how it is doing."""

    slug: str
    name: str
    unit_code: str
    unit_name: str
    decision_type: str
    decision_mode: str
    public_authority: bool
    minutes_saved_per_case: int
    # Volumes.
    received_window: int
    received_total: int
    open_requests: int
    decided_total: int
    returned: int
    stopped: int
    # Health.
    flow_failures_window: int
    commands_pending: int
    commands_dead: int
    oldest_pending_seconds: float | None
    health: ProcessHealth
    # Time and effect, over cases decided in the window.
    decided_window: int
    median_robot_seconds: float | None
    median_human_seconds: float | None
    followed_proposal_share: float | None
    # Service processes: cases the robot settled alone, and its share of all ended cases.
    completed_total: int = 0
    completed_by_robot: int = 0
    # A process that counts its own units of work (loans, not nightly cases) says how many
    # it handled and how many the robot settled alone (hook automation).
    automation_handled: int | None = None
    automation_automatic: int | None = None
    # Cases the robot should be working on with nothing recorded for the silence.
    stuck: int = 0

    @property
    def automation_rate(self) -> float | None:
        if self.automation_handled is not None:
            return (
                self.automation_automatic / self.automation_handled
                if self.automation_handled
                else None
            )
        ended = self.decided_total + self.completed_total
        return self.completed_by_robot / ended if ended else None

    @property
    def hours_saved_total(self) -> float:
        return (self.decided_total + self.completed_total) * self.minutes_saved_per_case / 60

    @property
    def hours_saved_window(self) -> float:
        return self.decided_window * self.minutes_saved_per_case / 60


def process_health(
    *,
    stopped: int,
    flow_failures_window: int,
    commands_dead: int,
    oldest_pending_seconds: float | None,
    stuck: int = 0,
) -> ProcessHealth:
    """Red when a person must act now, amber when something needs watching, else green.

    Red: a case stopped and waits for a person, a case's robot shows no sign of life
    (stuck), a command to Prefect can never be delivered, or one has waited past
    PENDING_STUCK_MINUTES. Amber: the robot failed
    in the window (the cases were taken care of), or a command has waited past
    PENDING_WATCH_MINUTES.
    """
    reasons = []
    if stopped:
        reasons.append(Reason.CASES_STOPPED)
    if stuck:
        reasons.append(Reason.CASES_STUCK)
    if commands_dead:
        reasons.append(Reason.COMMANDS_DEAD)
    if oldest_pending_seconds is not None:
        if oldest_pending_seconds >= PENDING_STUCK_MINUTES * 60:
            reasons.append(Reason.COMMANDS_STUCK)
        elif oldest_pending_seconds >= PENDING_WATCH_MINUTES * 60:
            reasons.append(Reason.COMMANDS_WAITING)
    if flow_failures_window:
        reasons.append(Reason.RECENT_FAILURES)
    if any(r in RED_REASONS for r in reasons):
        level = Health.RED
    elif reasons:
        level = Health.AMBER
    else:
        level = Health.GREEN
    return ProcessHealth(level=level, reasons=tuple(reasons))


def _case_volumes(*, since: datetime) -> dict[str, dict]:
    rows = (
        Case.objects.order_by()
        .values("process")
        .annotate(
            received_total=Count("pk"),
            received_window=Count("pk", filter=Q(received_at__gte=since)),
            decided_total=Count("pk", filter=Q(status=Case.Status.DECIDED)),
            completed_total=Count("pk", filter=Q(status=Case.Status.COMPLETED)),
            # Completed with no person involved: no request of any kind was ever opened.
            completed_by_robot=Count(
                "pk",
                filter=Q(status=Case.Status.COMPLETED)
                & ~Q(Exists(ApprovalRequest.objects.filter(case=OuterRef("pk")))),
            ),
            returned=Count("pk", filter=Q(status=Case.Status.RETURNED)),
            stopped=Count("pk", filter=Q(status=Case.Status.FAILED)),
        )
    )
    return {row.pop("process"): row for row in rows}


def cases_stuck(*, now: datetime):
    """Cases the robot should be working on (received, processing) with no start waiting in
    the outbox and nothing on their trail for settings.WATCHDOG_SILENCE_SECONDS: from Django's
    side, a dead run looks like this until the watchdog restarts it. One query."""
    quiet_since = now - timedelta(seconds=settings.WATCHDOG_SILENCE_SECONDS)
    return (
        Case.objects.filter(status__in=[Case.Status.RECEIVED, Case.Status.PROCESSING])
        .exclude(
            Exists(
                PrefectCommand.objects.filter(
                    case=OuterRef("pk"),
                    kind=PrefectCommand.Kind.START,
                    status=PrefectCommand.Status.PENDING,
                )
            )
        )
        .exclude(
            Exists(AuditEvent.objects.filter(case=OuterRef("pk"), created_at__gte=quiet_since))
        )
    )


def _stuck(*, now: datetime) -> dict[str, int]:
    rows = cases_stuck(now=now).order_by().values("process").annotate(n=Count("pk"))
    return {row["process"]: row["n"] for row in rows}


def _open_requests() -> dict[str, int]:
    rows = (
        ApprovalRequest.objects.filter(
            status__in=[ApprovalRequest.Status.OPEN, ApprovalRequest.Status.AWAITING_SECOND]
        )
        .order_by()
        .values("case__process")
        .annotate(n=Count("pk"))
    )
    return {row["case__process"]: row["n"] for row in rows}


def _flow_failures(*, since: datetime) -> dict[str, int]:
    rows = (
        AuditEvent.objects.filter(
            kind=Kind.ROBOT_STEP, data__step=FLOW_FAILED_STEP, created_at__gte=since
        )
        .order_by()
        .values("case__process")
        .annotate(n=Count("pk"))
    )
    return {row["case__process"]: row["n"] for row in rows}


def _outbox() -> dict[str, dict]:
    pending = Q(status=PrefectCommand.Status.PENDING)
    rows = (
        PrefectCommand.objects.filter(
            status__in=[PrefectCommand.Status.PENDING, PrefectCommand.Status.DEAD]
        )
        .order_by()
        .values("case__process")
        .annotate(
            pending=Count("pk", filter=pending),
            dead=Count("pk", filter=Q(status=PrefectCommand.Status.DEAD)),
            oldest_pending=Min("created_at", filter=pending),
        )
    )
    return {row.pop("case__process"): row for row in rows}


def _decided_in_window(*, since: datetime) -> dict[str, list[tuple]]:
    """Per process, for each case decided in the window: (robot seconds, human seconds, followed).

    Robot time runs from receipt to the first material compiled; human time from
    the request being opened to the decision being signed. The decision is the
    one that decided the case (a return for completion decides nothing).
    """
    first_material = (
        Material.objects.filter(case=OuterRef("request__case"))
        .order_by("version")
        .values("created_at")[:1]
    )
    rows = (
        Decision.objects.filter(
            request__case__status=Case.Status.DECIDED, request__case__decided_at__gte=since
        )
        .exclude(outcome=Decision.Outcome.RETURNED)
        .annotate(first_material_at=Subquery(first_material))
        .values_list(
            "request__case__process",
            "request__case__received_at",
            "first_material_at",
            "request__created_at",
            "signed_at",
            "followed_proposal",
        )
    )
    result: dict[str, list[tuple]] = {}
    for process, received, compiled, opened, signed, followed in rows:
        robot = (compiled - received).total_seconds() if compiled else None
        human = (signed - opened).total_seconds()
        result.setdefault(process, []).append((robot, human, followed))
    return result


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _own_automation(process, *, since: datetime) -> dict:
    hook = process.hook("automation")
    if hook is None:
        return {}
    figures = hook(since=since)
    return {
        "automation_handled": figures["handled"],
        "automation_automatic": figures["automatic"],
    }


def process_catalogue(*, now: datetime) -> list[ProcessOperations]:
    """Every process in the catalogue with its figures; `now` ends the window."""
    since = now - timedelta(days=WINDOW_DAYS)
    volumes = _case_volumes(since=since)
    open_requests = _open_requests()
    failures = _flow_failures(since=since)
    outbox = _outbox()
    decided = _decided_in_window(since=since)
    stuck = _stuck(now=now)
    catalogue = []
    units = {u.code: u for u in Unit.objects.all()}
    for process in sorted(registry.all(), key=lambda p: str(p.name)):
        unit = units.get(process.unit_code)
        v = volumes.get(process.slug, {})
        o = outbox.get(process.slug, {})
        oldest = o.get("oldest_pending")
        oldest_seconds = max(0.0, (now - oldest).total_seconds()) if oldest else None
        rows = decided.get(process.slug, [])
        stopped = v.get("stopped", 0)
        flow_failures = failures.get(process.slug, 0)
        commands_dead = o.get("dead", 0)
        catalogue.append(
            ProcessOperations(
                slug=process.slug,
                name=str(process.name),
                unit_code=process.unit_code,
                unit_name=unit.name if unit else process.unit_code,
                decision_type=", ".join(d.code for d in process.decision_types),
                decision_mode=process.decision_mode,
                public_authority=process.public_authority,
                minutes_saved_per_case=process.minutes_saved_per_case,
                received_window=v.get("received_window", 0),
                received_total=v.get("received_total", 0),
                open_requests=open_requests.get(process.slug, 0),
                decided_total=v.get("decided_total", 0),
                completed_total=v.get("completed_total", 0),
                completed_by_robot=v.get("completed_by_robot", 0),
                **_own_automation(process, since=since),
                returned=v.get("returned", 0),
                stopped=stopped,
                stuck=stuck.get(process.slug, 0),
                flow_failures_window=flow_failures,
                commands_pending=o.get("pending", 0),
                commands_dead=commands_dead,
                oldest_pending_seconds=oldest_seconds,
                health=process_health(
                    stopped=stopped,
                    flow_failures_window=flow_failures,
                    commands_dead=commands_dead,
                    oldest_pending_seconds=oldest_seconds,
                    stuck=stuck.get(process.slug, 0),
                ),
                decided_window=len(rows),
                median_robot_seconds=_median([r[0] for r in rows]),
                median_human_seconds=_median([r[1] for r in rows]),
                followed_proposal_share=(
                    sum(1 for r in rows if r[2]) / len(rows) if rows else None
                ),
            )
        )
    return catalogue


def catalogue_as_json(
    *, catalogue: list[ProcessOperations], prefect_reachable: bool, generated_at: datetime
) -> dict:
    """The catalogue for machines: the page's figures, process by process, nothing personal."""

    def rounded(value: float | None, digits: int = 0):
        if value is None:
            return None
        return round(value, digits) if digits else round(value)

    return {
        "generated_at": generated_at.isoformat(),
        "window_days": WINDOW_DAYS,
        "prefect": {"reachable": prefect_reachable},
        "processes": [
            {
                "slug": p.slug,
                "name": p.name,
                "unit": {"code": p.unit_code, "name": p.unit_name},
                "decision_type": p.decision_type,
                "decision_mode": p.decision_mode,
                "public_authority": p.public_authority,
                "human_signs_every_decision": p.public_authority,
                "volumes": {
                    "received_last_window": p.received_window,
                    "received_total": p.received_total,
                    "open_requests": p.open_requests,
                    "decided_total": p.decided_total,
                    "returned_for_completion": p.returned,
                    "stopped": p.stopped,
                },
                "health": {
                    "status": p.health.level,
                    "reasons": list(p.health.reasons),
                    "cases_stuck": p.stuck,
                    "flow_failures_last_window": p.flow_failures_window,
                    "commands_pending": p.commands_pending,
                    "commands_dead": p.commands_dead,
                    "oldest_pending_seconds": rounded(p.oldest_pending_seconds),
                },
                "times": {
                    "decided_last_window": p.decided_window,
                    "median_robot_seconds": rounded(p.median_robot_seconds),
                    "median_human_seconds": rounded(p.median_human_seconds),
                    "followed_proposal_share": rounded(p.followed_proposal_share, 3),
                    "completed_total": p.completed_total,
                    "completed_by_robot": p.completed_by_robot,
                    "automation_rate": rounded(p.automation_rate, 3),
                },
                "time_saved": {
                    "minutes_per_case": p.minutes_saved_per_case,
                    "hours_total": rounded(p.hours_saved_total, 1),
                    "hours_last_window": rounded(p.hours_saved_window, 1),
                },
            }
            for p in catalogue
        ],
    }
