"""Display helpers for the caseworker's pages: Swedish amounts, labels for codes.

Codes stored in the database (statuses, outcomes, event kinds, origins) are shown
through translatable labels here, so the pages read in Swedish by default and in
English when chosen, without changing what is stored.
"""

from django import template
from django.utils import formats
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from approvals.audit import Kind

register = template.Library()

NO_BREAK_SPACE = "\xa0"
MINUS = "\u2212"

CASE_STATUS = {
    "received": _("Received"),
    "processing": _("Robot working"),
    "awaiting_decision": _("Waiting for decision"),
    "returned": _("Returned for completion"),
    "awaiting_person": _("Waiting for a person"),
    "decided": _("Decided"),
    "completed": _("Completed by the robot"),
    "failed": _("Stopped"),
}
REQUEST_STATUS = {
    "open": _("Open"),
    "awaiting_second": _("Waiting for second signature"),
    "decided": _("Decided"),
    "superseded": _("Superseded"),
}
# The core's own outcomes; each process's others come from its declaration.
OUTCOME = {
    "approved": _("Approved"),
    "returned": _("Returned for completion"),
}
DOCUMENT_KIND = {
    "decision_letter": _("Decision letter"),
    "completion_request": _("Request for completion"),
    "certificate": _("Certificate"),
    "notice": _("Notice"),
    "roster": _("Roster"),
    "report": _("Report"),
}
ORIGIN = {
    "norm": _("National norm"),
    "applicant": _("Applicant"),
    "register": _("Register"),
    "robot": _("Robot"),
}
SEVERITY = {"warning": _("Warning"), "info": _("Information")}
EVENT = {
    Kind.APPLICATION_RECEIVED: _("Application received"),
    Kind.SUPPLEMENT_RECEIVED: _("Supplement received"),
    Kind.FLOW_START_FAILED: _("Robot start failed (will be retried)"),
    Kind.LEGACY_FLOW_START_REQUESTED: _("Robot start requested"),
    Kind.FLOW_STARTED: _("Robot started"),
    Kind.ROBOT_STEP: _("Robot step"),
    Kind.MATERIAL_COMPILED: _("Decision material compiled"),
    Kind.REQUEST_OPENED: _("Waiting for decision"),
    Kind.CASE_VIEWED: _("Case page opened"),
    Kind.MATERIAL_VIEWED: _("Decision material opened"),
    Kind.DOCUMENT_VIEWED: _("Document opened"),
    Kind.LEGACY_LETTER_VIEWED: _("Decision letter opened"),
    Kind.DECISION_SIGNED: _("Decision signed"),
    Kind.DECISION_REFUSED: _("Signature refused"),
    Kind.RESUME_DELIVERED: _("Decision handed to the robot"),
    Kind.RESUME_FAILED: _("Hand-over to the robot failed (will be retried)"),
    Kind.RESUME_VERIFIED: _("Decision verified by the robot"),
    Kind.RESUME_REJECTED: _("Robot rejected an unverified decision"),
    Kind.DECISION_EXECUTED: _("Decision carried out"),
    Kind.DOCUMENT_CREATED: _("Document created"),
    Kind.LEGACY_LETTER_CREATED: _("Decision letter created"),
    Kind.CASE_COMPLETED_BY_ROBOT: _("Completed by the robot"),
    Kind.EXCEPTION_OPENED: _("Exception waiting for a person"),
    Kind.EXCEPTION_SETTLED: _("Exception settled"),
    Kind.CASE_RETURNED: _("Returned for completion"),
    Kind.DECISION_COSIGNED: _("Second signature recorded"),
    Kind.REQUEST_CLAIMED: _("Case claimed"),
    Kind.REQUEST_UNCLAIMED: _("Case released to the queue"),
    Kind.REQUEST_REASSIGNED: _("Case reassigned"),
    Kind.REQUEST_ESCALATED: _("Overdue, escalated to team leader"),
    Kind.NOTICE_SENT: _("E-mail notification sent"),
}


@register.filter
def kr(value) -> str:
    """An amount in whole kronor in the page's language: "12 345 kr" in Swedish.

    The group separator is the locale's (a no-break space in Swedish) and a no-break
    space joins the number to "kr", so an amount never breaks across lines.
    """
    if value is None or value == "":
        return "–"
    amount = int(value)
    # One sign, the typographic minus: a deduction reads "−3 475 kr", never "-" or "−-".
    sign = MINUS if amount < 0 else ""
    return sign + formats.number_format(abs(amount), force_grouping=True) + NO_BREAK_SPACE + "kr"


@register.filter
def negative(value):
    """The amount as subtracted: 16 465 → −16 465 (for "incomes counted" rows)."""
    if value is None or value == "":
        return value
    return -int(value)


def _label(mapping: dict, value) -> str:
    return mapping.get(value, value or "")


@register.filter
def case_status(value) -> str:
    return _label(CASE_STATUS, value)


@register.filter
def request_status(value) -> str:
    return _label(REQUEST_STATUS, value)


@register.filter
def outcome(value) -> str:
    """An outcome's label: the core's own, else the one a process declares for it."""
    if value in OUTCOME:
        return OUTCOME[value]
    from approvals.registry import registry

    for spec in registry.all():
        for decision_type in spec.decision_types:
            declared = decision_type.outcome(value)
            if declared is not None:
                return declared.label
    return value or ""


@register.filter
def document_kind(value) -> str:
    return _label(DOCUMENT_KIND, value)


@register.filter
def origin(value) -> str:
    return _label(ORIGIN, value)


@register.filter
def severity(value) -> str:
    return _label(SEVERITY, value)


@register.filter
def event_kind(value) -> str:
    return _label(EVENT, value)


@register.filter
def person(user) -> str:
    """A colleague's name as shown to colleagues (never a personnummer)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def masked_pnr(value: str) -> str:
    """A personnummer with the last four digits hidden: "19910701-****"."""
    value = (value or "").replace("-", "")
    if len(value) < 8:
        return "****"
    return f"{value[:8]}-****"


@register.filter
def num(value) -> str:
    """A whole number grouped in the page's language ("5 000" in Swedish)."""
    if value is None or value == "":
        return "–"
    return formats.number_format(int(value), force_grouping=True)


@register.filter
def decimal(value, places=1) -> str:
    """A number with `places` decimals in the page's language ("1 234,5" in Swedish)."""
    if value is None or value == "":
        return "–"
    return formats.number_format(value, decimal_pos=int(places), force_grouping=True)


@register.filter
def percent(share) -> str:
    """A share between 0 and 1 as a whole percentage: "83 %" (no-break space)."""
    if share is None or share == "":
        return "–"
    return formats.number_format(round(float(share) * 100)) + NO_BREAK_SPACE + "%"


@register.filter
def duration(seconds) -> str:
    """A length of time as precise as a reader needs: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    if seconds is None or seconds == "":
        return "–"
    total = round(float(seconds))
    if total < 60:
        return gettext("%(s)s s") % {"s": total}
    minutes = total // 60
    if minutes < 60:
        return gettext("%(m)s min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return gettext("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return gettext("%(d)s d %(h)s h") % {"d": formats.number_format(days), "h": hours}


@register.filter
def warnings(flags) -> int:
    """How many of a material's deviation flags are warnings (the rest are information)."""
    return sum(1 for f in flags or [] if f.get("severity") == "warning")


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key) if mapping else None


@register.filter
def deviations(flags) -> str:
    """ "2 deviations" in the page's language (a filter: cheaper per row than blocktranslate)."""
    n = len(flags or [])
    return ngettext("%(n)s deviation", "%(n)s deviations", n) % {"n": n}


# --- human words for the trail (issue 9, point 16) ---------------------------------------

# What a robot step did, in words; a process's other steps read as their names.
ROBOT_STEP = {
    "mark-started": _("The robot started on the case"),
    "gather-register-data": _("The robot fetched register data"),
    "compute-proposal": _("The robot computed a proposal"),
    "compile-material": _("The robot compiled the decision material"),
}
# Accounts that are not people, by their label's kind and name.
ACTOR = {
    "robot:flow": _("The robot"),
    "robot:gate": _("The robot (checks the decision)"),
    "robot:execute": _("The robot (carries out the decision)"),
    "robot:inbox": _("The robot (reminders)"),
    "system:prefect-gateway": _("The system (hand-over to the robot)"),
}
ACTOR_KIND = {
    "robot": _("The robot"),
    "system": _("The system"),
    "integration": _("Integration"),
}
EVENT.update(
    {
        Kind.NOTE_WRITTEN: _("Journal note"),
        Kind.COSIGNATURE_DECLINED: _("Second signature declined, back to the first signer"),
        Kind.CASES_SEARCHED: _("Cases searched"),
        Kind.REQUEST_HANDED_OVER: _("Handed over to a colleague with the delegation"),
    }
)
DISPLAY_STATUS = {
    "second_pending": _("Signed – waiting for a second signature"),
    "letter_pending": _("Decided – the letter is being written"),
    "decided": _("Decided (letter written)"),
}
# Keys of an event's data, in words, for the auditor's timeline.
DETAIL = {
    "request": _("Request"),
    "decision": _("Decision"),
    "outcome": _("Outcome"),
    "amount": _("Amount"),
    "proposed_amount": _("Proposed amount"),
    "motivation": _("Motivation"),
    "reason": _("Reason"),
    "text": _("Text"),
    "note": _("Note"),
    "refers_to": _("Adds to note"),
    "step": _("Step"),
    "what": _("Read"),
    "purpose": _("Purpose"),
    "open_assignment": _("Open assignment"),
    "version": _("Version"),
    "from": _("From"),
    "to": _("To"),
    "query": _("Search"),
    "hits": _("Hits"),
    "code": _("Refusal"),
    "followed_proposal": _("Followed the proposal"),
    "material_sha256": _("Material SHA-256"),
    "due_date": _("Due"),
}


def _step_words(step: str) -> str:
    return str(
        ROBOT_STEP.get(step)
        or gettext("Robot step: %(step)s") % {"step": (step or "").replace("-", " ")}
    )


@register.filter
def event_words(event) -> str:
    """What happened, in words: a robot step says what the robot did."""
    data = event.data or {}
    if event.kind == Kind.ROBOT_STEP:
        return _step_words(data.get("step", ""))
    return str(_label(EVENT, event.kind))


@register.filter
def actor_words(event) -> str:
    """Who did it, in words: a person's or account's name, or which part of the robot acted.

    Never a raw label such as "system:prefect-gateway" or "robot:gate".
    """
    label = event.actor_label or ""
    if label in ACTOR:
        return str(ACTOR[label])
    kind, _sep, _name = label.partition(":")
    if kind in ("robot", "system"):
        return str(ACTOR_KIND[kind])
    if getattr(event, "actor", None) is not None:
        return person(event.actor)
    return str(ACTOR_KIND.get(kind, label))


@register.filter
def display_status(value) -> str:
    """The case's status as a person reads it (selectors.case_display_status)."""
    if value in DISPLAY_STATUS:
        return DISPLAY_STATUS[value]
    return _label(CASE_STATUS, value)


def _detail_value(value) -> str:
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if value is None or value == "":
        return "–"
    if isinstance(value, list):
        return ", ".join(_detail_value(v) for v in value) or "–"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_detail_value(v)}" for k, v in value.items())
    return str(value)


@register.filter
def event_details(data) -> list[tuple[str, str]]:
    """An event's data as (label, text) pairs for people: never a raw dict."""
    pairs = []
    for key, value in (data or {}).items():
        label = DETAIL.get(key)
        pairs.append((str(label) if label else key.replace("_", " "), _detail_value(value)))
    return pairs
