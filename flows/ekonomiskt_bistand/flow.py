"""Återansökan av ekonomiskt bistånd: the robot gathers, computes and proposes; a human decides.

Parameters, results and logs carry ids and hashes only; the personal data stays in
Django and is read there by the services each task calls.
"""

from prefect import flow, get_run_logger, task
from prefect.context import FlowRunContext

from flows.django_setup import setup as django_setup
from flows.gate import await_human_decision, await_supplement, record_flow_failure

PROCESS = "ekonomiskt-bistand"


def _steps():
    """The steps module, imported once Django is set up in this process."""
    django_setup()
    from flows.ekonomiskt_bistand import steps

    return steps


MAX_SUPPLEMENT_ROUNDS = 10


def _run_id() -> str:
    return str(FlowRunContext.get().flow_run.id)


@task(name="prepare-material")
def prepare_material(case_id: int, round_no: int, flow_run_id: str) -> dict:
    """Gather the registers' answers, compute the proposal and compile material version
    round_no+1 (the first round also marks the case started); returns ids and hashes.

    One task for the three steps (each still on the case's trail as its own robot step):
    every task run costs the Prefect server a task run, three states and their events,
    and after a resume a cache lookup — per case that was most of the server's work.
    """
    steps = _steps()
    if round_no == 0:
        steps.case_started(case_id=case_id, flow_run_id=flow_run_id)
    snapshot = steps.register_gather(
        case_id=case_id, version=round_no + 1, flow_run_id=flow_run_id
    )
    opened = steps.material_prepare(case_id=case_id, version=round_no + 1, flow_run_id=flow_run_id)
    return {
        "request_id": opened.request_id,
        "material_sha256": opened.material_sha256,
        "snapshot_sha256": snapshot,
    }


@task(name="execute-decision")
def execute_decision(decision_id: int, flow_run_id: str) -> str:
    """Write the decision letter and close the case; returns the letter's hash."""
    return _steps().decision_carry_out(decision_id=decision_id, flow_run_id=flow_run_id)


@flow(
    name=PROCESS,
    persist_result=True,
    log_prints=False,
    on_failure=[record_flow_failure],
    on_crashed=[record_flow_failure],
)
def ekonomiskt_bistand(case_id: int) -> dict:
    django_setup()
    logger = get_run_logger()
    run_id = _run_id()
    for round_no in range(MAX_SUPPLEMENT_ROUNDS):
        opened = prepare_material(case_id, round_no, run_id)
        logger.info("Case %s: material v%s waiting for a human decision.", case_id, round_no + 1)
        verified = await_human_decision(request_id=opened["request_id"])
        letter_sha = execute_decision(verified.decision_id, run_id)
        if verified.outcome != "returned":
            return {
                "case_id": case_id,
                "decision_id": verified.decision_id,
                "letter_sha256": letter_sha,
            }
        logger.info("Case %s returned for completion; waiting for a supplement.", case_id)
        await_supplement(case_id=case_id, round_no=round_no)
    raise RuntimeError(f"Case {case_id}: more than {MAX_SUPPLEMENT_ROUNDS} completion rounds")
