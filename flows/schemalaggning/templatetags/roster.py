"""Small labels for the roster templates: shift letters, weekday names, rule names."""

from datetime import date

from django import template

from ..panel import RULE_LABELS

register = template.Library()

SHIFT_LETTERS = {"morning": "D", "evening": "K", "night": "N"}
WEEKDAYS = ("mån", "tis", "ons", "tor", "fre", "lör", "sön")


@register.filter
def shift_letter(code) -> str:
    return SHIFT_LETTERS.get(code or "", "P")


@register.filter
def weekday(iso: str) -> str:
    return WEEKDAYS[date.fromisoformat(iso).weekday()]


@register.filter
def day_of_month(iso: str) -> int:
    return date.fromisoformat(iso).day


@register.filter
def is_weekend(iso: str) -> bool:
    return date.fromisoformat(iso).weekday() >= 5


@register.filter
def rule_label(code: str) -> str:
    return RULE_LABELS.get(code, code)


@register.filter
def edit_text(edit: dict) -> str:
    """An edit as the manager reads it in the list of changes and on the roster."""
    op = edit.get("op")
    if op == "move":
        parts = []
        if edit.get("staff"):
            parts.append(f"till {edit['staff']}")
        if edit.get("start"):
            parts.append(f"till {edit['start'].replace('T', ' ')}–{edit['end'][11:]}")
        return f"Pass nr {edit['index']} flyttat {' och '.join(parts)}"
    if op == "swap":
        return f"Pass nr {edit['first']} och nr {edit['second']} bytta"
    if op == "remove":
        return f"Pass nr {edit['index']} borttaget"
    if op == "add":
        return (
            f"Pass tillagt för {edit['staff']} {edit['start'].replace('T', ' ')}–{edit['end'][11:]}"
        )
    return str(op)
