"""The declaration of the process: the core, the API, the runner and the pages read this."""

from django.utils.translation import gettext_lazy as _

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

SLUG = "ekonomiskt-bistand"
DECISION_TYPE = "ekonomiskt-bistand.beslut"
PARTLY_APPROVED = "partly_approved"
REFUSED = "refused"

PROCESS = ProcessSpec(
    slug=SLUG,
    name=_("Återansökan av ekonomiskt bistånd"),
    description=_(
        "Re-applications for financial assistance: the robot gathers register incomes, "
        "computes the riksnorm and compiles the material; a caseworker decides."
    ),
    unit_code="ekb",
    public_authority=True,
    decision_mode=DecisionMode.HUMAN,
    decision_types=(
        DecisionType(
            code=DECISION_TYPE,
            label=_("Ekonomiskt bistånd (SoL 12 kap.)"),
            has_amount=True,
            outcomes=(
                Outcome(
                    APPROVED, _("Approved"), grants_amount=True, action=_("Approve as proposed")
                ),
                Outcome(
                    PARTLY_APPROVED,
                    _("Partly approved"),
                    against_party=True,
                    grants_amount=True,
                    action=_("Approve another amount"),
                ),
                Outcome(REFUSED, _("Refused"), against_party=True, action=_("Refuse")),
                Outcome(RETURNED, _("Returned for completion"), action=_("Return for completion")),
            ),
        ),
    ),
    triggers=(Trigger.API,),
    flow="flows.ekonomiskt_bistand.flow:ekonomiskt_bistand",
    templates=Templates(
        material="ekonomiskt-bistand/material.html",
        document="ekonomiskt-bistand/letter.html",
        inbox_summary="ekonomiskt-bistand/inbox_summary.html",
        case_panel="ekonomiskt-bistand/case_panel.html",
    ),
    due_working_days=3,
    minutes_saved_per_case=25,
    application_schema="flows.ekonomiskt_bistand.schemas:ApplicationV1",
    supplement_schema="flows.ekonomiskt_bistand.schemas:SupplementV1",
    hooks="flows.ekonomiskt_bistand.hooks",
)
