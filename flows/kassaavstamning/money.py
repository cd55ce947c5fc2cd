"""Amounts as whole öre: parsed through Decimal, never float, so 0.1 + 0.2 stays 30 öre."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def ore_from_decimal_text(text: str) -> int:
    """Öre of a decimal with a point ("1234.50", "-250", "12.5").

    More than two decimals are accepted only when the extra ones are zero ("10.000"):
    the krona has no smaller unit, and rounding would hide an export error.
    Raises ``ValueError`` with the offending text.
    """
    text = text.strip()
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise ValueError(f"not a decimal amount: {text!r}")
    try:
        value = Decimal(text) * 100
    except InvalidOperation:  # pragma: no cover - the regex already excludes it
        raise ValueError(f"not a decimal amount: {text!r}") from None
    if value != value.to_integral_value():
        raise ValueError(f"more than two decimals: {text!r}")
    return int(value)


def format_kronor(ore: int) -> str:
    """Swedish display of an öre amount: ``-1 234,50 kr`` (for messages and details)."""
    sign = "-" if ore < 0 else ""
    kronor, rest = divmod(abs(ore), 100)
    grouped = f"{kronor:,}".replace(",", "\u00a0")
    return f"{sign}{grouped},{rest:02d} kr"
