"""The declaration of the process: the core, the API, the runner and the pages read this."""

from django.utils.translation import gettext_lazy as _

from approvals.registry import (
    DecisionMode,
    DecisionType,
    Outcome,
    ProcessSpec,
    Templates,
    Trigger,
)

SLUG = "skolplikt"
UNIT_CODE = "bsn-elevhalsa"
DECISION_TYPE = "skolplikt-utredning"
CLOSED = "closed"
GUARDIAN_TALK = "guardian_talk"
INJUNCTION = "injunction"
# 06:00 on the 3rd of every month (Europe/Stockholm): the scan of the month before, once the
# schools' attendance for its last days has been reported.
SCHEDULE_CRON = "0 6 3 * *"

PROCESS = ProcessSpec(
    slug=SLUG,
    name=_("Bevakning av skolplikten"),
    description=_(
        "Monthly school-attendance monitoring (Skollag 7 kap. 20–23 §§): the robot compares "
        "the population register with the schools' SS 12000 enrolments and attendance and "
        "opens a case per child; a caseworker closes it, talks with the guardians or "
        "decides an injunction, and the robot writes one letter per guardian."
    ),
    unit_code=UNIT_CODE,
    public_authority=True,
    decision_mode=DecisionMode.HUMAN,
    decision_types=(
        DecisionType(
            code=DECISION_TYPE,
            label=_("Utredning om skolplikt (skollagen 7 kap. 21–23 §§)"),
            outcomes=(
                Outcome(CLOSED, _("Closed"), action=_("Close the investigation")),
                Outcome(
                    GUARDIAN_TALK,
                    _("Closed after a talk with the guardians"),
                    action=_("Close after a talk with the guardians"),
                ),
                Outcome(
                    INJUNCTION,
                    _("Injunction to the guardians (7 kap. 23 §)"),
                    against_party=True,
                    action=_("Decide an injunction"),
                ),
            ),
        ),
    ),
    triggers=(Trigger.SCHEDULE,),
    schedule_cron=SCHEDULE_CRON,
    flow="flows.skolplikt.flow:skolplikt",
    templates=Templates(
        material="skolplikt/material.html",
        document="skolplikt/closing.html",
        inbox_summary="skolplikt/inbox_summary.html",
        case_panel="skolplikt/case_panel.html",
    ),
    due_working_days=10,
    minutes_saved_per_case=45,
    hooks="flows.skolplikt.hooks",
    rules="flows.skolplikt.rulesets:RULESETS",
)
