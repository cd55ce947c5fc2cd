"""Anställningsintyg: the rules write the certificate, or a person settles an exception.

Parameters, results, logs and run input carry ids and hashes only; the HR data stays
in Django and the HR connector, read by the steps each task calls.
"""

from prefect import flow, get_run_logger, task
from prefect.context import FlowRunContext
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from pydantic import Field

from flows.django_setup import setup as django_setup
from flows.gate import record_flow_failure

PROCESS = "anstallningsintyg"
# Each "corrected" settlement runs the rules again; a case corrected this often is a sign
# that something else is wrong, and the run stops (the case shows as failed).
MAX_ROUNDS = 5
MAX_REFUSED_CLAIMS = 5


class SettlementInput(RunInput):
    """What Django sends when an HR officer settled the exception: ids, nothing personal."""

    request_id: int = Field(ge=1)
    settlement_id: int = Field(ge=1)


class SettlementNotReceived(RuntimeError):
    """Too many refused resume claims; the run stops without carrying anything out."""


def _steps():
    django_setup()
    from flows.anstallningsintyg import steps

    return steps


def _run_id() -> str:
    return str(FlowRunContext.get().flow_run.id)


@task(name="mark-started")
def mark_started(case_id: int, flow_run_id: str) -> int:
    _steps().case_started(case_id=case_id, flow_run_id=flow_run_id)
    return case_id


@task(name="apply-rules", retries=2, retry_delay_seconds=5)
def apply_rules(case_id: int, version: int, flow_run_id: str) -> dict:
    """Issue the certificate, or open exception `version`; returns ids and hashes."""
    return _steps().rules_apply(case_id=case_id, version=version, flow_run_id=flow_run_id)


@task(name="carry-out-settlement")
def carry_out_settlement(case_id: int, settlement_id: int, flow_run_id: str) -> str:
    return _steps().settlement_carry_out(
        case_id=case_id, settlement_id=settlement_id, flow_run_id=flow_run_id
    )


def await_settlement(*, request_id: int) -> int:
    """Suspend until an HR officer settles exception `request_id`; returns the settlement id."""
    steps = _steps()
    logger = get_run_logger()
    for attempt in range(MAX_REFUSED_CLAIMS):
        claim = suspend_flow_run(
            wait_for_input=SettlementInput, key=f"exception-{request_id}-{attempt}", timeout=None
        )
        try:
            steps.settlement_verify(
                request_id=request_id,
                claimed_request_id=claim.request_id,
                settlement_id=claim.settlement_id,
            )
        except steps.SettlementNotVerified as exc:
            logger.warning("Resume input refused (%s); waiting again.", exc.code)
            continue
        return claim.settlement_id
    raise SettlementNotReceived(f"{MAX_REFUSED_CLAIMS} resume claims refused for {request_id}")


@flow(
    name=PROCESS,
    persist_result=True,
    log_prints=False,
    on_failure=[record_flow_failure],
    on_crashed=[record_flow_failure],
)
def anstallningsintyg(case_id: int) -> dict:
    django_setup()
    logger = get_run_logger()
    run_id = _run_id()
    mark_started(case_id, run_id)
    for round_no in range(MAX_ROUNDS):
        result = apply_rules(case_id, round_no + 1, run_id)
        if result["issued"]:
            return {"case_id": case_id, "document_sha256": result["document_sha256"]}
        logger.info("Case %s: exception %s waits for HR.", case_id, result["request_id"])
        settlement_id = await_settlement(request_id=result["request_id"])
        if carry_out_settlement(case_id, settlement_id, run_id) == "closed":
            return {"case_id": case_id, "closed_by_settlement": settlement_id}
    raise RuntimeError(f"Case {case_id}: more than {MAX_ROUNDS} exception rounds")
