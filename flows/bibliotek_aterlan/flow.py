"""Återlån på biblioteket: the nightly SIP2 renewal run, and each exception's wait for a librarian.

One flow, deployment "bibliotek-aterlan/bibliotek-aterlan", scheduled nightly:

* without `case_id` (the schedule, or a run created by hand): the night's run; it opens
  the night case, renews, opens one exception case per refused loan and e-mails patrons;
* with `case_id` of an exception case (started by that case's outbox command): waits
  for the librarian's settlement and carries it out;
* with `case_id` of a night case: nothing; the nightly run that opened it carried it out.

Parameters, results and logs carry ids, counts and hashes only; card numbers, names and
addresses stay in Django (steps.py reads them there). Without LIBRARY_SIP2_HOST the run
starts the bundled SIP2 simulator in its own process (flows/bibliotek_aterlan/config.py).
"""

from prefect import flow, get_run_logger, task
from prefect.context import FlowRunContext
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from pydantic import Field

from flows.django_setup import setup as django_setup
from flows.gate import record_flow_failure

PROCESS = "bibliotek-aterlan"
MAX_REFUSED_CLAIMS = 5


class SettlementInput(RunInput):
    """What Django sends when a librarian settled the exception: ids only."""

    request_id: int = Field(ge=1)
    settlement_id: int = Field(ge=1)


def _steps():
    django_setup()
    from flows.bibliotek_aterlan import steps

    return steps


def _run_id() -> str:
    return str(FlowRunContext.get().flow_run.id)


@task(name="open-night")
def open_night(today_iso: str, flow_run_id: str) -> int:
    import datetime as dt

    return _steps().night_open(today=dt.date.fromisoformat(today_iso), flow_run_id=flow_run_id)


@task(name="renew-loans")
def renew_loans(night_case_id: int, today_iso: str, flow_run_id: str) -> dict:
    """SIP2 Renew for each loan due; returns counts only."""
    import datetime as dt

    return _steps().renewals_perform(
        night_case_id=night_case_id, today=dt.date.fromisoformat(today_iso), flow_run_id=flow_run_id
    )


@task(name="open-exceptions")
def open_exceptions(night_case_id: int, flow_run_id: str) -> dict:
    return _steps().exceptions_open(night_case_id=night_case_id, flow_run_id=flow_run_id)


@task(name="send-notices")
def send_notices(night_case_id: int, flow_run_id: str) -> dict:
    return _steps().notices_send(night_case_id=night_case_id, flow_run_id=flow_run_id)


@task(name="complete-night")
def complete_night(night_case_id: int, summary: dict) -> str:
    return _steps().night_complete(night_case_id=night_case_id, summary=summary)


@task(name="mark-started")
def mark_started(case_id: int, flow_run_id: str) -> bool:
    """Whether this run carries the case out (False: another run already does)."""
    django_setup()
    from approvals.models import Case
    from approvals.services import case_flow_started

    case_flow_started(case_id=case_id, flow_run_id=flow_run_id)
    return str(Case.objects.get(pk=case_id).flow_run_id) == flow_run_id


@task(name="exception-material")
def exception_material(case_id: int) -> int:
    return _steps().exception_material(case_id=case_id)


@task(name="carry-out-settlement")
def carry_out_settlement(request_id: int, flow_run_id: str) -> str:
    return _steps().settlement_carry_out(request_id=request_id, flow_run_id=flow_run_id)


def await_settlement(*, request_id: int) -> int:
    """Suspend until the librarian's settlement arrives; the claim is checked in Django."""
    steps = _steps()
    logger = get_run_logger()
    for attempt in range(MAX_REFUSED_CLAIMS):
        settled = steps.settlement_of(request_id=request_id)
        if settled is not None:
            # Settled before this run reached its wait: nothing to wait for.
            return settled
        claim = suspend_flow_run(
            wait_for_input=SettlementInput, key=f"settlement-{request_id}-{attempt}", timeout=None
        )
        try:
            return steps.settlement_verify(request_id=request_id, settlement_id=claim.settlement_id)
        except steps.StepError as exc:
            logger.warning("Resume input refused (%s); waiting again.", exc.code)
    raise RuntimeError(f"{MAX_REFUSED_CLAIMS} resume claims refused for request {request_id}")


@flow(
    name=PROCESS,
    persist_result=True,
    log_prints=False,
    on_failure=[record_flow_failure],
    on_crashed=[record_flow_failure],
)
def bibliotek_aterlan(case_id: int | None = None) -> dict:
    steps = _steps()
    logger = get_run_logger()
    run_id = _run_id()
    if case_id is None:
        from django.utils import timezone

        today = timezone.localdate().isoformat()
        night_case_id = open_night(today, run_id)
        renewed = renew_loans(night_case_id, today, run_id)
        exceptions = open_exceptions(night_case_id, run_id)
        notices = send_notices(night_case_id, run_id)
        summary = {"renewals": renewed, "exceptions": exceptions, "notices": notices}
        complete_night(night_case_id, summary)
        logger.info("Night case %s: %s", night_case_id, summary)
        return {"night_case_id": night_case_id, **summary}
    if steps.case_kind(case_id) == steps.NIGHT:
        # Opened by a nightly run, which carries it out; this is its outbox START.
        logger.info("Night case %s is carried out by the nightly run.", case_id)
        return {"case_id": case_id, "carried_out_by": "nightly run"}
    if not mark_started(case_id, run_id):
        logger.info("Case %s has another flow run; nothing to do.", case_id)
        return {"case_id": case_id, "carried_out_by": "another run"}
    request_id = exception_material(case_id)
    logger.info("Case %s: exception waiting for a librarian (request %s).", case_id, request_id)
    settlement_id = await_settlement(request_id=request_id)
    action = carry_out_settlement(request_id, run_id)
    return {"case_id": case_id, "settlement_id": settlement_id, "action": action}
