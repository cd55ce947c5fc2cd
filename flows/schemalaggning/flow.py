"""Schemaläggning: the solver proposes a roster, the unit manager edits and approves it.

Parameters, results and logs carry ids and hashes only; the roster stays in Django and
is read there by the steps each task calls.
"""

from prefect import flow, get_run_logger, task
from prefect.context import FlowRunContext

from flows.django_setup import setup as django_setup
from flows.gate import await_human_decision, record_flow_failure

PROCESS = "schemalaggning"


def _steps():
    """The steps module, imported once Django is set up in this process."""
    django_setup()
    from flows.schemalaggning import steps

    return steps


def _run_id() -> str:
    return str(FlowRunContext.get().flow_run.id)


@task(name="mark-started")
def mark_started(case_id: int, flow_run_id: str) -> int:
    _steps().case_started(case_id=case_id, flow_run_id=flow_run_id)
    return case_id


@task(name="propose-roster")
def propose_roster(case_id: int, flow_run_id: str) -> dict:
    """Solve (CP-SAT, bounded by ROSTER_SOLVER_SECONDS) and compile the material."""
    opened = _steps().material_prepare(case_id=case_id, version=1, flow_run_id=flow_run_id)
    return {"request_id": opened.request_id, "material_sha256": opened.material_sha256}


@task(name="publish-roster")
def publish_roster(decision_id: int, flow_run_id: str) -> str:
    """One iCalendar per person and the roster PDF for the signed roster; returns its hash."""
    return _steps().roster_publish(decision_id=decision_id, flow_run_id=flow_run_id)


@flow(
    name=PROCESS,
    persist_result=True,
    log_prints=False,
    on_failure=[record_flow_failure],
    on_crashed=[record_flow_failure],
)
def schemalaggning(case_id: int) -> dict:
    django_setup()
    logger = get_run_logger()
    run_id = _run_id()
    mark_started(case_id, run_id)
    opened = propose_roster(case_id, run_id)
    logger.info("Case %s: roster proposal waiting for the manager.", case_id)
    verified = await_human_decision(request_id=opened["request_id"])
    document_sha = publish_roster(verified.decision_id, run_id)
    return {
        "case_id": case_id,
        "decision_id": verified.decision_id,
        "outcome": verified.outcome,
        "document_sha256": document_sha,
    }
