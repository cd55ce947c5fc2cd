"""The shared gate: a flow asks for a human decision and verifies it after resume.

The flow suspends with a typed input that carries ids and a hash only. Whatever
arrives on resume is a claim; approvals.services.decision_verify_for_execution
checks it against the signed decision in Django before anything is executed. A
refused claim (forged or stale input sent straight to Prefect's API) is logged on
the case and the flow suspends again, waiting for a real decision.
"""

import itertools

from prefect import get_run_logger
from prefect.context import FlowRunContext
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from pydantic import Field


class DecisionInput(RunInput):
    """What Django sends when it resumes a run: ids and the material hash, nothing personal."""

    request_id: int = Field(ge=1)
    decision_id: int = Field(ge=1)
    material_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class SupplementInput(RunInput):
    """Sent when the applicant's system delivered the missing information, or when the
    deadline of the request for completion passed without it (`deadline_passed`)."""

    case_id: int = Field(ge=1)
    supplement_id: int | None = Field(None, ge=1)
    deadline_passed: bool = False


def await_human_decision(*, request_id: int):
    """Suspend until a human decision for `request_id` arrives and passes the gate."""
    from approvals import faults
    from approvals.services import GateRefused, decision_verify_for_execution
    from approvals.services.signing import decision_signed_claim, request_current

    logger = get_run_logger()
    flow_run_id = str(FlowRunContext.get().flow_run.id)
    # A refused claim never consumes the run: however many forged or stale inputs arrive
    # through Prefect's API, the run suspends again and the real signature is still carried
    # out when it comes (each refusal is on the case's trail, once per pause key).
    for attempt in itertools.count():
        key = f"approval-{request_id}-{attempt}"
        # Signed already: this run was started again after the signature (the resume went
        # to a run that died), or is the resumed run itself. The signed decision in Django
        # is the claim then, checked by the same gate; nothing is awaited that came.
        signed = decision_signed_claim(request_id=request_id) if attempt == 0 else None
        if signed is not None:
            claim = DecisionInput(**signed)
        else:
            claim = suspend_flow_run(wait_for_input=DecisionInput, key=key, timeout=None)
        # A declined second signature reopens the material as a new request: the decision
        # that resumes the run is then signed on that one.
        request_id = request_current(request_id=request_id)
        try:
            verified = decision_verify_for_execution(
                request_id=request_id,
                claimed_request_id=claim.request_id,
                decision_id=claim.decision_id,
                material_sha256=claim.material_sha256,
                flow_run_id=flow_run_id,
                attempt_key=key,
            )
        except GateRefused as exc:
            logger.warning("Resume input refused by the gate (%s); waiting again.", exc.code)
            continue
        logger.info("Decision %s verified for request %s.", verified.decision_id, request_id)
        faults.kill_point(faults.VERIFIED)
        return verified


def await_supplement(*, case_id: int, round_no: int) -> int | None:
    """Suspend until the supplement arrives (its id, checked) or the deadline passed (None).

    Either way the flow goes on to compile material for a person: the robot never
    decides a case whose completion did not come.
    """
    from approvals.services import completion_deadline_verify, supplement_verify

    claim = suspend_flow_run(wait_for_input=SupplementInput, key=f"supplement-{case_id}-{round_no}")
    if claim.supplement_id is None:
        completion_deadline_verify(case_id=case_id)
        return None
    return supplement_verify(case_id=case_id, supplement_id=claim.supplement_id)


def record_flow_failure(flow, flow_run, state) -> None:
    """A flow's on_failure / on_crashed hook: the failure goes on the case in Django.

    The case is the run's `case_id` parameter, else the case that follows this run (a
    nightly run that opened its own case); a run with no case (a scan, a daily import)
    leaves its failure in Prefect, where the process owner sees it. The message names no
    person. Nothing is decided: the watchdog restarts the robot or hands it to operators.
    """
    from flows.django_setup import setup

    setup()
    from approvals.models import Case
    from approvals.services import case_flow_failed

    case_id = flow_run.parameters.get("case_id")
    if case_id is None:
        case_id = Case.objects.filter(flow_run_id=flow_run.id).values_list("pk", flat=True).first()
    if case_id is None:
        return
    case_flow_failed(
        case_id=int(case_id),
        flow_run_id=str(flow_run.id),
        reason=f"{state.type.value}: {state.message or ''}",
    )
