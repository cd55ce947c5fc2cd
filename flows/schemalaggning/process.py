"""The declaration of the process: the core, the runner and the pages read this.

Not public authority: a roster is the employer's work management (arbetsledning), which
the unit manager (enhetschef) fastställer under the delegation order; no party has a
right of appeal, and no personnummer is involved (staff are named by their staff id).
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

SLUG = "schemalaggning"
DECISION_TYPE = "fastst-schema"
UNIT_CODE = "aon-hemtjanst-norr"

PROCESS = ProcessSpec(
    slug=SLUG,
    name="Schemaläggning av vårdpersonal",
    description=(
        "A care unit's roster for 4–6 weeks: OR-Tools CP-SAT proposes it within "
        "Arbetstidslagen and the agreement, the unit manager edits and fastställer it, "
        "the robot publishes an iCalendar file for each person."
    ),
    unit_code=UNIT_CODE,
    public_authority=False,
    decision_mode=DecisionMode.HUMAN,
    decision_types=(
        DecisionType(
            code=DECISION_TYPE,
            label="Fastställ schema",
            has_amount=False,
            outcomes=(
                Outcome(APPROVED, "Fastställt", action="Fastställ schemat"),
                Outcome(RETURNED, "Åter för ändring", action="Åter för ändring"),
            ),
        ),
    ),
    # The manager asks for a proposal on a page (/p/schemalaggning/).
    triggers=(Trigger.SELF_SERVICE,),
    flow="flows.schemalaggning.flow:schemalaggning",
    templates=Templates(
        material="schemalaggning/material.html",
        document="schemalaggning/document.html",
        inbox_summary="schemalaggning/inbox_summary.html",
        case_panel="schemalaggning/case_panel.html",
    ),
    due_working_days=5,
    # A manager's roster for a 4-week period by hand: about a working day.
    minutes_saved_per_case=360,
    hooks="flows.schemalaggning.hooks",
    rules="flows.schemalaggning.rulesets:RULESETS",
)
