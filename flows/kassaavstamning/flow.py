"""Kassaavstämning: reconcile an import, or wait for the attest of one day's differences.

One flow, three ways in (parameter ``case_id``):

* an import case (POST /api/v1/imports/, the drop folder, ``manage.py kassa_import``):
  reconcile; matched days close as the robot's act, each difference day opens its own
  case (whose own run starts from the outbox), the import case completes;
* a difference case: compile the material, suspend at the gate until the attestant's
  signature is verified, then write the attest record or the question to the cash point;
* no case (the daily schedule): import the drop folder, catch up an import whose run
  never ran, write last month's summaries once the month is complete.

Parameters, results and logs carry ids, hashes and counts only.
"""

from prefect import flow, get_run_logger, task
from prefect.context import FlowRunContext

from flows.django_setup import setup as django_setup
from flows.gate import await_human_decision, record_flow_failure

PROCESS = "kassaavstamning"


def _steps():
    """The steps module, imported once Django is set up in this process."""
    django_setup()
    from flows.kassaavstamning import steps

    return steps


def _run_id() -> str:
    return str(FlowRunContext.get().flow_run.id)


@task(name="mark-started")
def mark_started(case_id: int, flow_run_id: str) -> str:
    """Record the start; returns the kind of case (import or difference)."""
    steps = _steps()
    steps.case_started(case_id=case_id, flow_run_id=flow_run_id)
    return steps.case_kind(case_id=case_id)


@task(name="reconcile-import")
def reconcile_import(case_id: int, flow_run_id: str) -> dict:
    """Match the import's files; returns counts and the difference cases' ids."""
    return _steps().import_reconcile(case_id=case_id, flow_run_id=flow_run_id)


@task(name="compile-material")
def compile_material(case_id: int, flow_run_id: str) -> dict:
    opened = _steps().material_prepare(case_id=case_id, flow_run_id=flow_run_id)
    return {"request_id": opened.request_id, "material_sha256": opened.material_sha256}


@task(name="carry-out-attest")
def carry_out(decision_id: int, flow_run_id: str) -> str:
    """The attest record or the question to the cash point; returns its hash."""
    return _steps().decision_carry_out(decision_id=decision_id, flow_run_id=flow_run_id)


@task(name="daily-run")
def daily(flow_run_id: str) -> dict:
    return _steps().daily_run(flow_run_id=flow_run_id)


@flow(
    name=PROCESS,
    persist_result=True,
    log_prints=False,
    on_failure=[record_flow_failure],
    on_crashed=[record_flow_failure],
)
def kassaavstamning(case_id: int | None = None) -> dict:
    django_setup()
    logger = get_run_logger()
    run_id = _run_id()
    if case_id is None:
        result = daily(run_id)
        logger.info("Daily run: %s", result)
        return result
    kind = mark_started(case_id, run_id)
    if kind == "import":
        counts = reconcile_import(case_id, run_id)
        logger.info(
            "Import case %s: %s matched, %s pending, %s difference cases.",
            case_id,
            counts["matched"],
            counts["pending"],
            len(counts["difference_cases"]),
        )
        return {"case_id": case_id, **counts}
    opened = compile_material(case_id, run_id)
    logger.info("Difference case %s waiting for an attest.", case_id)
    verified = await_human_decision(request_id=opened["request_id"])
    document_sha = carry_out(verified.decision_id, run_id)
    return {
        "case_id": case_id,
        "decision_id": verified.decision_id,
        "outcome": verified.outcome,
        "document_sha256": document_sha,
    }
