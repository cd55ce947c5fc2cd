"""Staff personnummer in the form the conflict-of-interest check compares: 12 digits.

The check (approvals.rules.no_conflict_of_interest) compares the signer's number with
the canonical numbers of the case's household. A staff record holding `9107012388`
never equals `199107012388`, so a conflicted caseworker could sign. Staff numbers are
therefore parsed with the same parser as intake and stored canonically.
"""

from django.core.exceptions import ValidationError

from .personnummer import PersonnummerError, parse_personnummer

STAFF_PERSONNUMMER_INVALID = "staff_personnummer_invalid"


def staff_personnummer_canonical(value: str | None) -> str:
    """The canonical 12-digit form of ``value``; empty stays empty (no number recorded).

    Raises ``ValidationError`` (code ``STAFF_PERSONNUMMER_INVALID``) with the parser's
    message when the number cannot be accepted.
    """
    text = (value or "").strip()
    if not text:
        return ""
    try:
        return parse_personnummer(text).canonical
    except PersonnummerError as exc:
        raise ValidationError(
            "%(message)s", code=STAFF_PERSONNUMMER_INVALID, params={"message": exc.message}
        ) from None


def validate_staff_personnummer(value: str) -> None:
    """Field validator: accepts every written form the parser accepts."""
    staff_personnummer_canonical(value)
