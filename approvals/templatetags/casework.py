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
    return formats.number_format(int(value), force_grouping=True) + NO_BREAK_SPACE + "kr"


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
