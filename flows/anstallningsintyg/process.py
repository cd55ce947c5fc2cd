"""The declaration of the certificate robot: the core, the runner and the pages read this.

Certifying employment is the employer's duty, not public authority, and nothing is
decided: what the HR data settles is issued as the robot's recorded act; what it does
not settle (overlapping periods, a missing end reason …) goes to an HR officer's queue
as an exception. The decision type exists because the core asks every process that a
person works on to name one (approvals.E012); its outcomes are only the labels of the
settlement actions — an exception never becomes a Decision (exception_settle).
"""

from django.utils.translation import gettext_lazy as _

from approvals.registry import (
    DecisionMode,
    DecisionType,
    Outcome,
    ProcessSpec,
    Templates,
    Trigger,
)

SLUG = "anstallningsintyg"
UNIT_CODE = "hr-lon"
EXCEPTION_TYPE = "anstallningsintyg-undantag"
# Settlement actions (hooks.exception_actions): HR corrected the data in the HR system and
# the robot re-runs the rules and issues; or HR closes the request without a certificate.
CORRECTED_AND_ISSUED = "corrected_and_issued"
CLOSED = "closed"

PROCESS = ProcessSpec(
    slug=SLUG,
    name=_("Anställningsintyg och arbetsgivarintyg"),
    description=_(
        "Employment certificates on request: the robot writes them from the HR and payroll "
        "data with a verification code; contradictory data goes to HR's queue."
    ),
    unit_code=UNIT_CODE,
    public_authority=False,
    decision_mode=DecisionMode.EXCEPTIONS,
    decision_types=(
        DecisionType(
            code=EXCEPTION_TYPE,
            label=_("Undantag: anställningsintyg"),
            outcomes=(
                Outcome(
                    CORRECTED_AND_ISSUED,
                    _("Corrected in the HR system; issue"),
                    action=_("Data corrected: issue the certificate"),
                ),
                Outcome(CLOSED, _("Closed without certificate"), action=_("Close the request")),
            ),
        ),
    ),
    triggers=(Trigger.SELF_SERVICE,),
    flow="flows.anstallningsintyg.flow:anstallningsintyg",
    templates=Templates(
        material="anstallningsintyg/material.html",
        document="anstallningsintyg/certificate.html",
        inbox_summary="anstallningsintyg/inbox_summary.html",
        case_panel="anstallningsintyg/case_panel.html",
    ),
    due_working_days=3,
    minutes_saved_per_case=15,
    hooks="flows.anstallningsintyg.hooks",
)
