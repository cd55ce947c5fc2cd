"""Labels of ekonomiskt bistånd's codes: calculation sections, income types, registers."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

SECTION = {"riksnorm": _("National norm"), "costs": _("Costs"), "incomes": _("Incomes")}
INCOME_TYPE = {
    "salary_net": _("Salary (net)"),
    "housing_allowance": _("Housing allowance"),
    "child_allowance": _("Child allowance"),
    "large_family_supplement": _("Large family supplement"),
    "maintenance_support": _("Maintenance support"),
    "sickness_benefit": _("Sickness benefit"),
    "parental_benefit": _("Parental benefit"),
    "activity_support": _("Activity support"),
    "unemployment_benefit": _("Unemployment benefit"),
    "pension": _("Pension"),
    "student_aid": _("Student aid"),
    "other": _("Other income"),
}
# Swedish authorities keep their names in every language.
SOURCE = {
    "skatteverket": "Skatteverket",
    "forsakringskassan": "Försäkringskassan",
    "csn": "CSN",
    "akassa": _("Unemployment insurance fund"),
    "pensionsmyndigheten": "Pensionsmyndigheten",
    "folkbokforing": _("Population register"),
}


def _label(mapping: dict, value) -> str:
    return mapping.get(value, value or "")


@register.filter
def section(value) -> str:
    return _label(SECTION, value)


@register.filter
def income_type(value) -> str:
    return _label(INCOME_TYPE, value)


@register.filter
def source(value) -> str:
    return _label(SOURCE, value)


@register.filter
def register_replacements(lines) -> list:
    """The lines where a register value replaced what the applicant declared (decisive facts)."""
    return [
        line
        for line in lines or []
        if line.get("origin") == "register" and "sökande uppgav" in line.get("basis", "")
    ]
