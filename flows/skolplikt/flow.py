"""Bevakning av skolplikten: the monthly scan, and each child's investigation up to the letters.

One flow, one deployment ("skolplikt/skolplikt", as the registry serves one flow per
process), two kinds of run:

* ``skolplikt()`` or ``skolplikt(month="2026-11")`` — no case: the **scan run**. The monthly
  Prefect schedule starts it without parameters (it then scans the month before today,
  Europe/Stockholm); it opens one case per flagged child with ``services.case_open``, and
  each of those cases gets its own run below through the core's outbox.
* ``skolplikt(case_id=N)`` — the **case run**: mark started, compile the investigation
  material, suspend for the caseworker's decision (flows.gate), and after the verified
  decision write one letter per guardian; the case closes as decided.

Parameters, results and logs carry ids, a month, counts and hashes only; the personal data
stays in Django and is read there by the steps each task calls.
"""

from prefect import flow, get_run_logger, task
from prefect.context import FlowRunContext

from flows.django_setup import setup as django_setup
from flows.gate import await_human_decision, record_flow_failure

PROCESS = "skolplikt"


def _steps():
    """The steps module, imported once Django is set up in this process."""
    django_setup()
    from flows.skolplikt import steps

    return steps


def _run_id() -> str:
    return str(FlowRunContext.get().flow_run.id)


@task(name="scan-and-open-cases")
def scan_and_open(month: str, flow_run_id: str) -> dict:
    """Scan the month and open a case per flagged child; returns case ids and counts."""
    return _steps().scan_and_open(month=month, flow_run_id=flow_run_id)


@task(name="mark-started")
def mark_started(case_id: int, flow_run_id: str) -> int:
    _steps().case_started(case_id=case_id, flow_run_id=flow_run_id)
    return case_id


@task(name="compile-material")
def compile_material(case_id: int, flow_run_id: str) -> dict:
    """The absence report or not-enrolled investigation; returns the request id and hash."""
    opened = _steps().material_prepare(case_id=case_id, flow_run_id=flow_run_id)
    return {"request_id": opened.request_id, "material_sha256": opened.material_sha256}


@task(name="write-letters")
def write_letters(decision_id: int, flow_run_id: str) -> list[str]:
    """One letter per guardian for the verified decision; returns their hashes."""
    return _steps().letters_write(decision_id=decision_id, flow_run_id=flow_run_id)


@flow(
    name=PROCESS,
    persist_result=True,
    log_prints=False,
    on_failure=[record_flow_failure],
    on_crashed=[record_flow_failure],
)
def skolplikt(case_id: int | None = None, month: str | None = None) -> dict:
    django_setup()
    logger = get_run_logger()
    run_id = _run_id()
    if case_id is None:
        steps = _steps()
        month = steps.month_valid(month) if month else steps.default_month()
        summary = scan_and_open(month, run_id)
        logger.info(
            "Scan %s: %s flagged, %s cases opened, %s already open, %s conflicts.",
            month,
            summary["flagged"],
            len(summary["opened"]),
            len(summary["existing"]),
            len(summary["conflicts"]),
        )
        return {
            "month": month,
            "flagged": summary["flagged"],
            "opened": summary["opened"],
            "existing": summary["existing"],
            "conflicts": len(summary["conflicts"]),
        }
    mark_started(case_id, run_id)
    opened = compile_material(case_id, run_id)
    logger.info("Case %s: material waiting for a caseworker's decision.", case_id)
    verified = await_human_decision(request_id=opened["request_id"])
    letters = write_letters(verified.decision_id, run_id)
    logger.info("Case %s: %s letters written.", case_id, len(letters))
    return {"case_id": case_id, "decision_id": verified.decision_id, "letters_sha256": letters}
