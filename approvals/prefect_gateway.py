"""The one place where Django talks to Prefect.

Calls carry ids and hashes only. Every call is recorded first as a
PrefectCommand (outbox) in the caller's transaction, then delivered after
commit; a failed delivery stays pending and is retried by
`manage.py deliver_prefect_commands`, so nothing is lost while Prefect is down.
"""

import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .audit import Kind, audit_append
from .models import Case, PrefectCommand

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300  # the default of settings.PREFECT_COMMAND_MAX_BACKOFF_SECONDS
HEALTH_TIMEOUT_SECONDS = 1.0


class PrefectUnavailable(Exception):
    """Prefect could not be reached or refused the call for now; retry later."""


def _deployment_name(process: str) -> str:
    from .registry import registry

    return registry[process].deployment_name


def _require_api_url() -> None:
    """Refuse to call Prefect without a configured server.

    Without PREFECT_API_URL Prefect would start a throw-away "ephemeral" server in
    this process, which knows none of our flow runs; the command waits instead.
    """
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise PrefectUnavailable("PREFECT_API_URL is not set for this process")


def flow_run_start(*, process: str, case_id: int, attempt: int = 1) -> UUID:
    """Create a flow run for a case; idempotent per case and attempt (a restart by the
    watchdog or an operator is a new attempt, so Prefect creates a new run)."""
    from prefect.deployments import run_deployment

    _require_api_url()

    try:
        flow_run = run_deployment(
            name=_deployment_name(process),
            parameters={"case_id": case_id},
            timeout=0,
            idempotency_key=f"case-{case_id}" if attempt == 1 else f"case-{case_id}-{attempt}",
            as_subflow=False,
            # Always the synchronous implementation: Django views may run in a thread
            # where an event loop is active (async_dispatch would return a coroutine).
            _sync=True,
        )
    except Exception as exc:  # httpx errors, ObjectNotFound, ...
        raise PrefectUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return flow_run.id


def flow_run_resume(*, flow_run_id: UUID, run_input: dict) -> str:
    """Resume a suspended run. Returns 'resumed' or 'not_paused' (already resumed)."""
    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import NotPausedError, resume_flow_run

    _require_api_url()
    try:
        resume_flow_run(flow_run_id, run_input=run_input, _sync=True)
    except NotPausedError:
        return "not_paused"
    except FlowPauseTimeout as exc:
        raise PrefectUnavailable("the flow run can no longer be resumed") from exc
    except Exception as exc:
        raise PrefectUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return "resumed"


def _input_consumed(payload: dict) -> bool:
    """Whether the flow already confirmed the input this command carries."""
    from .models import Decision, Supplement

    run_input = payload["run_input"]
    if "decision_id" in run_input:
        return Decision.objects.filter(
            pk=run_input["decision_id"], verified_at__isnull=False
        ).exists()
    if "settlement_id" in run_input:
        # A settled exception is confirmed when the robot has closed its case.
        return Case.objects.filter(
            requests__settlement=run_input["settlement_id"], status=Case.Status.COMPLETED
        ).exists()
    if run_input.get("deadline_passed"):
        # Confirmed when the flow took the case back from "returned".
        return not Case.objects.filter(
            pk=run_input["case_id"], status=Case.Status.RETURNED
        ).exists()
    return Supplement.objects.filter(
        pk=run_input["supplement_id"], consumed_at__isnull=False
    ).exists()


def command_enqueue(*, kind: str, case: Case, payload: dict) -> PrefectCommand:
    """Record a call for Prefect; delivered after the surrounding transaction commits."""
    command = PrefectCommand.objects.create(kind=kind, case=case, payload=payload)
    if settings.PREFECT_START_ON_COMMIT or kind == PrefectCommand.Kind.RESUME:
        transaction.on_commit(lambda: command_deliver(command_id=command.pk))
    return command


def command_deliver(*, command_id: int) -> bool:
    """Try to deliver one pending command; True when Prefect has it."""
    with transaction.atomic():
        command = (
            PrefectCommand.objects.select_for_update()
            .select_related("case")
            .filter(pk=command_id, status=PrefectCommand.Status.PENDING)
            .first()
        )
        if command is None:
            return True
        command.attempts += 1
        try:
            if command.kind == PrefectCommand.Kind.START:
                attempt = int(command.payload.get("attempt", 1))
                run_id = flow_run_start(
                    process=command.case.process, case_id=command.case_id, attempt=attempt
                )
                if attempt == 1:
                    Case.objects.filter(pk=command.case_id, flow_run_id__isnull=True).update(
                        flow_run_id=run_id
                    )
                else:
                    # A restart: the case follows its new run.
                    Case.objects.filter(pk=command.case_id).update(flow_run_id=run_id)
                outcome = str(run_id)
                audit_kind = Kind.FLOW_STARTED
            else:
                if command.case.flow_run_id is None:
                    raise PrefectUnavailable("the case has no flow run yet")
                outcome = flow_run_resume(
                    flow_run_id=command.case.flow_run_id, run_input=command.payload["run_input"]
                )
                if outcome == "not_paused" and not _input_consumed(command.payload):
                    # The run is not suspended yet (still on its way to the gate) or
                    # Prefect lost track; the flow has not confirmed the decision, so
                    # try again later.
                    raise PrefectUnavailable("the flow run is not suspended yet")
                audit_kind = Kind.RESUME_DELIVERED
        except PrefectUnavailable as exc:
            delay = min(settings.PREFECT_COMMAND_MAX_BACKOFF_SECONDS, 2 ** min(command.attempts, 8))
            command.last_error = str(exc)[:2000]
            command.next_attempt_at = timezone.now() + timedelta(seconds=delay)
            command.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            audit_append(
                kind=Kind.RESUME_FAILED if command.kind == "resume" else Kind.FLOW_START_FAILED,
                actor_label="system:prefect-gateway",
                case=command.case,
                data={
                    "command": command.pk,
                    "attempt": command.attempts,
                    "error": command.last_error,
                    "delivered": False,
                },
            )
            logger.warning("Prefect command %s not delivered: %s", command.pk, exc)
            return False
        command.status = PrefectCommand.Status.DONE
        command.delivered_at = timezone.now()
        command.last_error = ""
        command.save(update_fields=["attempts", "status", "delivered_at", "last_error"])
        audit_append(
            kind=audit_kind,
            actor_label="system:prefect-gateway",
            case=command.case,
            data={"command": command.pk, "attempt": command.attempts, "result": outcome},
        )
    return True


def commands_deliver_due(*, limit: int = 100) -> tuple[int, int]:
    """Deliver every pending command that is due. Returns (delivered, still pending)."""
    ids = list(
        PrefectCommand.objects.filter(
            status=PrefectCommand.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    delivered = sum(1 for pk in ids if command_deliver(command_id=pk))
    return delivered, len(ids) - delivered


def prefect_health() -> bool:
    """Whether the Prefect API answers its health check within a second.

    For the operators' page only: a slow or absent Prefect must not slow the page
    down or fail it. Without a configured API URL (Prefect's ephemeral mode) there
    is no server to ask, and none is started.
    """
    import httpx
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        return False
    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=HEALTH_TIMEOUT_SECONDS)
    except (httpx.HTTPError, httpx.InvalidURL):
        # Refused, timed out or misconfigured: all read as "not reachable now".
        return False
    return response.status_code == 200


def flow_run_state(flow_run_id) -> tuple[str, object] | None:
    """(state type, when the run last made progress) of a flow run; None when Prefect
    cannot answer.

    Progress is the latest state change of the run or of any of its task runs: a run
    that is Running and finishing one task after another is not silent, however long
    ago the run itself entered Running (a busy machine makes a healthy run slow; only a
    run whose process is gone stops changing states altogether).
    """
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    try:
        _require_api_url()
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(flow_run_id)
            tasks = []
            if run.state is not None and run.state.type.value == "RUNNING":
                tasks = client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])), limit=200
                )
    except Exception:  # noqa: BLE001 - unreachable or unknown: the caller waits for later
        return None
    if run.state is None:
        return None
    since = max([run.state.timestamp, *(t.state.timestamp for t in tasks if t.state is not None)])
    return run.state.type.value, since


def flow_run_states(flow_run_ids) -> dict[str, tuple[str, object]] | None:
    """(state type, when it was entered) of many flow runs in one call per 200, by run id
    (str); a run Prefect does not know is left out. None when Prefect cannot answer."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    ids = [UUID(str(i)) for i in flow_run_ids]
    states: dict[str, tuple[str, object]] = {}
    try:
        _require_api_url()
        with get_client(sync_client=True) as client:
            for start in range(0, len(ids), 200):
                chunk = ids[start : start + 200]
                runs = client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=chunk)),
                    limit=len(chunk),
                )
                for run in runs:
                    if run.state is not None:
                        states[str(run.id)] = (run.state.type.value, run.state.timestamp)
    except Exception:  # noqa: BLE001 - unreachable: the caller waits for later
        return None
    return states


HEARTBEAT_EVENT = "prefect.flow-run.heartbeat"


def flow_run_last_alive(flow_run_id, since=None):
    """When a run last showed it was alive: its latest state change, its tasks' latest,
    or its latest heartbeat event (the engine sends one every
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds while the run's process lives). None
    when Prefect cannot answer."""
    from prefect import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId
    from prefect.events.filters import (
        EventFilter,
        EventNameFilter,
        EventOccurredFilter,
        EventResourceFilter,
    )

    try:
        _require_api_url()
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(flow_run_id)
            moments = [run.state.timestamp] if run.state else []
            tasks = client.read_task_runs(
                task_run_filter=TaskRunFilter(
                    flow_run_id=TaskRunFilterFlowRunId(any_=[UUID(str(flow_run_id))])
                ),
                limit=200,
            )
            moments += [t.state.timestamp for t in tasks if t.state is not None]
            occurred = EventOccurredFilter(since=since) if since else EventOccurredFilter()
            page = client.read_events(
                filter=EventFilter(
                    occurred=occurred,
                    event=EventNameFilter(name=[HEARTBEAT_EVENT]),
                    resource=EventResourceFilter(id=[f"prefect.flow-run.{flow_run_id}"]),
                ),
                limit=1,
            )
            moments += [e.occurred for e in page.events]
    except Exception:  # noqa: BLE001 - unreachable or unknown: the caller waits for later
        return None
    return max(moments) if moments else None


def flow_run_mark_superseded(flow_run_id, *, message: str) -> None:
    """Mark a run that stopped making progress as Cancelled before its case gets a new run,
    so that a process that is in fact still alive, or a worker still holding a claim on it,
    cannot carry on beside the new run. Cancelled, not Crashed: Prefect lets a worker move
    a Crashed run back to Pending and execute it (seen in tests/faults: a run claimed before
    the server was killed came back after the restart, beside its replacement), while it
    refuses Cancelled -> Pending."""
    from prefect import get_client
    from prefect.states import Cancelled

    try:
        _require_api_url()
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(flow_run_id, Cancelled(message=message), force=True)
    except Exception:  # noqa: BLE001 - best effort; the new run is started regardless
        logger.warning("could not mark flow run %s cancelled", flow_run_id)
