"""Template filters for kassaavstämning: öre as kronor, difference kinds in Swedish."""

from django import template

from ..money import format_kronor

register = template.Library()

KIND_LABELS = {
    "deposit_missing": "Insättning saknas",
    "deposit_amount": "Insättning med fel belopp",
    "card_amount": "Kortavräkning avviker",
    "swish_amount": "Swish avviker",
    "ledger_missing": "Verifikation saknas",
    "ledger_amount": "Fel belopp i bokföringen",
    "ledger_duplicate": "Dubbelbokförd verifikation",
    "bank_unexplained": "Oförklarad bankpost",
}


@register.filter
def ore(value) -> str:
    """An amount in öre as kronor: 262300 → "2 623,00 kr"."""
    if value is None or value == "":
        return "–"
    return format_kronor(int(value))


@register.filter
def kind_label(value) -> str:
    return KIND_LABELS.get(value, value)


@register.filter
def difference_ore(difference: dict) -> str:
    """found − expected of one difference, signed, as kronor."""
    return format_kronor(difference["found"] - difference["expected"])
