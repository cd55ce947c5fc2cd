"""The declaration of the cash-reconciliation robot: the core, the runner and the pages read this.

Not public authority: attesting a cash difference is an internal control under the
municipality's attestreglemente, not a decision about a person. Days that reconcile
close as the robot's act; each day with differences waits for an attestant, whose
signature passes the same gate as a decision (delegation line, amount limit).
"""

from approvals.registry import (
    APPROVED,
    RETURNED,
    DecisionMode,
    DecisionType,
    Outcome,
    ProcessSpec,
    Templates,
    Trigger,
)

SLUG = "kassaavstamning"
UNIT_CODE = "ekonomi-redovisning"
DECISION_TYPE = "attest-kassadifferens"
# Every banking day at 07:00 (Europe/Stockholm), after the bank's night statement.
DAILY_CRON = "0 7 * * 1-5"

PROCESS = ProcessSpec(
    slug=SLUG,
    name="Kassaavstämning",
    description=(
        "Each day's till takings per cash point matched against the bank statement (camt.053) "
        "and the ledger (SIE 4); days that reconcile close by themselves, differences are "
        "attested by a controller or sent back to the cash point with a question."
    ),
    unit_code=UNIT_CODE,
    public_authority=False,
    decision_mode=DecisionMode.EXCEPTIONS,
    decision_types=(
        DecisionType(
            code=DECISION_TYPE,
            label="Attest av kassadifferens",
            # The sum attested is the day's differences; delegation lines carry a limit.
            has_amount=True,
            outcomes=(
                # grants_amount: the attested sum is the one the delegation limit is checked on.
                Outcome(APPROVED, "Attesterad", grants_amount=True, action="Attestera"),
                Outcome(RETURNED, "Åter till kassapunkten med fråga"),
            ),
        ),
    ),
    triggers=(Trigger.SCHEDULE, Trigger.FILE_IMPORT),
    flow="flows.kassaavstamning.flow:kassaavstamning",
    templates=Templates(
        material="kassaavstamning/material.html",
        document="kassaavstamning/document.html",
        # A return is the controller's question to the cash point.
        completion_request="kassaavstamning/question.html",
        inbox_summary="kassaavstamning/inbox_summary.html",
        case_panel="kassaavstamning/case_panel.html",
    ),
    due_working_days=5,
    minutes_saved_per_case=15,
    hooks="flows.kassaavstamning.hooks",
    schedule_cron=DAILY_CRON,
    rules="flows.kassaavstamning.config:CONFIGS",
)
