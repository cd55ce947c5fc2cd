"""Swedish personnummer and samordningsnummer: validation and parsing.

Rules (Skatteverket, "Personnummer" SKV 704 and "Samordningsnummer"):

* Accepted forms: ``YYYYMMDDNNNC``, ``YYYYMMDD-NNNC``, ``YYMMDD-NNNC``, ``YYMMDD+NNNC`` and
  ``YYMMDDNNNC``. Surrounding whitespace is ignored; anything else (inner spaces, other
  separators, non-ASCII digits, 11 or 13 digits, ``YYYYMMDD+NNNC``) is refused, because a
  number that was mistyped should be corrected by a person rather than guessed by a robot.
* The serial number NNN is 001–999; 000 is never issued.
* The check digit C is the Luhn digit over the nine digits YYMMDDNNN (the century is not
  part of it), weights 2, 1, 2, 1, ...
* In the 10-digit form the century is inferred from ``today``: ``-`` (or no separator)
  means the most recent date with those digits that is not after ``today``; ``+`` means
  the person has turned 100, so that date moved a further century back.
* A samordningsnummer (coordination number) has the day increased by 60 (61–91). The
  date, after subtracting 60, must be a real calendar date.

A birth date after ``today`` is not refused for the 12-digit form: whether a person is
born yet in a given month is a question for the caller (the bistånd calculation turns
it into its own named error), and the number itself stays structurally valid.

Error messages never repeat the submitted value, so they can be returned by the API and
logged without leaking a personal identity number.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

PNR_FORMAT = "PNR_FORMAT"
PNR_DATE = "PNR_DATE"
PNR_SERIAL = "PNR_SERIAL"
PNR_CHECK_DIGIT = "PNR_CHECK_DIGIT"

COORDINATION_DAY_OFFSET = 60

# [0-9] rather than \d: \d also matches non-ASCII digits such as "١" or "９".
_TWELVE_DIGIT_FORM = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})-?([0-9]{3})([0-9])")
_TEN_DIGIT_FORM = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})([-+]?)([0-9]{3})([0-9])")
_NINE_DIGITS = re.compile(r"[0-9]{9}")


class PersonnummerError(ValueError):
    """A personnummer that cannot be accepted; ``code`` is one of the ``PNR_*`` constants."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Personnummer:
    """A validated personnummer or samordningsnummer.

    ``canonical`` keeps the digits exactly as issued (12 digits, no separator), so a
    coordination number keeps its day + 60; ``birth_date`` is the real date.
    """

    canonical: str
    birth_date: date
    is_coordination_number: bool

    def __str__(self) -> str:
        return f"{self.canonical[:8]}-{self.canonical[8:]}"

    def __repr__(self) -> str:
        # Masked so that a Personnummer printed by a logger or a traceback does not leak.
        return f"Personnummer({self.mask()!r})"

    def mask(self) -> str:
        """Return ``YYYYMMDD-****``: enough to tell records apart in logs, not to identify."""
        return f"{self.canonical[:8]}-****"

    def age_on(self, d: date) -> int:
        """Return the age in whole years on ``d``; negative when ``d`` precedes the birth.

        Someone born on 29 February turns a year older on 28 February in a common year:
        a period of years counted from a day that the final month lacks ends on that
        month's last day (lag (1930:173) om beräkning av lagstadgad tid, 2 §).
        """
        birthday_month, birthday_day = self.birth_date.month, self.birth_date.day
        if (birthday_month, birthday_day) == (2, 29) and not calendar.isleap(d.year):
            birthday_day = 28
        years = d.year - self.birth_date.year
        if (d.month, d.day) < (birthday_month, birthday_day):
            years -= 1
        return years

    def age_during_month(self, year: int, month: int) -> int:
        """Return the age the person reaches during the month: the age on its last day.

        Riksnorm amounts for children follow "the child's age during the month applied
        for", so a child who turns 7 on any day of March counts as 7 for all of March.
        The result is negative for a month that ends before the birth.
        """
        last_day = calendar.monthrange(year, month)[1]
        return self.age_on(date(year, month, last_day))


def luhn_check_digit(nine_digits: str) -> int:
    """Return the Luhn check digit for the nine digits YYMMDDNNN.

    Weights alternate 2, 1, 2, ... from the left; the digits of each product are summed
    (a product of 10 or more contributes product − 9); C = (10 − sum mod 10) mod 10.
    """
    if not isinstance(nine_digits, str) or not _NINE_DIGITS.fullmatch(nine_digits):
        raise PersonnummerError(PNR_FORMAT, "The check digit needs exactly nine digits.")
    total = 0
    for position, char in enumerate(nine_digits):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def parse_personnummer(value: str, *, today: date | None = None) -> Personnummer:
    """Parse and validate a personnummer or samordningsnummer.

    ``today`` only matters for the 10-digit forms, whose century must be inferred; pass
    it explicitly wherever the result has to be reproducible.
    Checks run in the order format, date, serial, check digit, and the first failure is
    raised as :class:`PersonnummerError`.
    """
    if not isinstance(value, str):
        raise PersonnummerError(PNR_FORMAT, "A personnummer must be given as text.")
    text = value.strip()
    twelve = _TWELVE_DIGIT_FORM.fullmatch(text)
    ten = None if twelve else _TEN_DIGIT_FORM.fullmatch(text)
    if twelve:
        year_text, month_text, day_text, serial, check_text = twelve.groups()
        year = int(year_text)
    elif ten:
        yy_text, month_text, day_text, separator, serial, check_text = ten.groups()
        year = None
    else:
        raise PersonnummerError(
            PNR_FORMAT,
            "A personnummer must be written YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC, "
            "YYMMDD+NNNC or YYMMDDNNNC.",
        )

    month = int(month_text)
    written_day = int(day_text)
    is_coordination_number = written_day > COORDINATION_DAY_OFFSET
    day = written_day - COORDINATION_DAY_OFFSET if is_coordination_number else written_day

    if year is None:
        year = _infer_year(
            yy=int(yy_text), month=month, day=day, plus=separator == "+", today=today
        )
    birth_date = _real_date(
        year=year, month=month, day=day, is_coordination_number=is_coordination_number
    )

    if serial == "000":
        raise PersonnummerError(PNR_SERIAL, "The serial number (NNN) must be 001–999.")

    nine = f"{year % 100:02d}{month_text}{day_text}{serial}"
    if luhn_check_digit(nine) != int(check_text):
        raise PersonnummerError(
            PNR_CHECK_DIGIT, "The check digit does not match; the number may be mistyped."
        )
    return Personnummer(
        canonical=f"{year:04d}{month_text}{day_text}{serial}{check_text}",
        birth_date=birth_date,
        is_coordination_number=is_coordination_number,
    )


def is_valid_personnummer(value: object, *, today: date | None = None) -> bool:
    """Return whether ``value`` is an acceptable personnummer or samordningsnummer."""
    try:
        parse_personnummer(value, today=today)  # type: ignore[arg-type]
    except PersonnummerError:
        return False
    return True


def _infer_year(*, yy: int, month: int, day: int, plus: bool, today: date | None) -> int:
    """Return the four-digit birth year for a 10-digit number.

    The candidate is the most recent year ending in ``yy`` whose (month, day) is not
    after ``today``; ``+`` moves it a century back. Month and day are compared as numbers
    so that an impossible date is reported by the date check, not here.
    """
    reference = today or date.today()
    year = reference.year - (reference.year - yy) % 100
    if (month, day) > (reference.month, reference.day) and year == reference.year:
        year -= 100
    if plus:
        year -= 100
    return year


def _real_date(*, year: int, month: int, day: int, is_coordination_number: bool) -> date:
    """Return the birth date, or raise ``PNR_DATE`` when it is not a calendar date."""
    try:
        return date(year, month, day)
    except ValueError:
        pass
    if is_coordination_number:
        message = (
            "The date part is not a real calendar date "
            "(a coordination number's day is the birth day plus 60)."
        )
    else:
        message = "The date part is not a real calendar date."
    raise PersonnummerError(PNR_DATE, message) from None
