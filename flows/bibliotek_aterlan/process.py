"""The declaration of the process: the core, the runner and the pages read this.

Not public authority and decision mode `exceptions`: a renewal the library system grants
is the robot's recorded act; a refusal goes to a librarian's queue. The core's check
approvals.E012 wants a decision type whenever a person works on cases; its outcomes here
are labels only, since an exception is never a Decision: a librarian settles it with
services.exception_settle (the actions are hooks.exception_actions()).
"""

from django.utils.translation import gettext_lazy as _

from approvals.registry import DecisionMode, DecisionType, Outcome, ProcessSpec, Templates, Trigger

SLUG = "bibliotek-aterlan"
DECISION_TYPE = "bibliotek-undantag"
# The settlement actions (hooks.exception_actions) and the outcome labels naming them.
RENEWED_BY_HAND = "renewed_by_hand"
LET_RUN_OUT = "let_run_out"

PROCESS = ProcessSpec(
    slug=SLUG,
    name=_("Återlån på biblioteket"),
    description=_(
        "Every night the robot renews the library loans due within three days over SIP2; "
        "a loan the library system refuses (reserved, renewal limit, blocked card, item type) "
        "goes to the librarians' queue, and the patron gets an e-mail either way."
    ),
    unit_code="kultur-bibliotek",
    public_authority=False,
    decision_mode=DecisionMode.EXCEPTIONS,
    decision_types=(
        DecisionType(
            code=DECISION_TYPE,
            label=_("Undantag vid återlån"),
            outcomes=(
                Outcome(RENEWED_BY_HAND, _("Renewed by hand")),
                Outcome(LET_RUN_OUT, _("Let the loan run out")),
            ),
        ),
    ),
    triggers=(Trigger.SCHEDULE,),
    # 02:30 every night (Europe/Stockholm), after the library system's own night jobs.
    schedule_cron="30 2 * * *",
    flow="flows.bibliotek_aterlan.flow:bibliotek_aterlan",
    templates=Templates(
        material="bibliotek-aterlan/material.html",
        inbox_summary="bibliotek-aterlan/inbox_summary.html",
        case_panel="bibliotek-aterlan/case_panel.html",
    ),
    # A refused loan is due within days: the librarian should look the next working day.
    due_working_days=1,
    minutes_saved_per_case=3,
    hooks="flows.bibliotek_aterlan.hooks",
)
