"""Tests for municipality.personnummer.

Only synthetic numbers are used: serial numbers in the 98x range on made-up dates, with the
check digit computed by ``_with_check_digit`` below. That helper uses the textbook Luhn
*validation* (double every second digit from the right, the whole number must sum to a
multiple of ten), a different formulation from the module's left-to-right weights, so a
shared mistake is unlikely. Two check digits are also worked by hand in
``test_luhn_check_digit_worked_by_hand``.
"""

import dataclasses
from datetime import date

import pytest

from municipality.personnummer import (
    PNR_CHECK_DIGIT,
    PNR_DATE,
    PNR_FORMAT,
    PNR_SERIAL,
    Personnummer,
    PersonnummerError,
    is_valid_personnummer,
    luhn_check_digit,
    parse_personnummer,
)

TODAY = date(2026, 3, 15)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position_from_right, char in enumerate(reversed(digits)):
        digit = int(char)
        if position_from_right % 2 == 1:
            digit = sum(divmod(digit * 2, 10))
        total += digit
    return total % 10 == 0


def _with_check_digit(nine: str) -> str:
    """Return the ten digits YYMMDDNNNC for the nine digits YYMMDDNNN."""
    return next(nine + str(c) for c in range(10) if _luhn_valid(nine + str(c)))


def synthetic(year: int, month: int, day: int, serial: str = "982") -> str:
    """Return a synthetic 12-digit number; ``day`` is written as given (add 60 yourself)."""
    ten = _with_check_digit(f"{year % 100:02d}{month:02d}{day:02d}{serial}")
    return f"{year // 100:02d}{ten}"


def wrong_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def assert_error(value: object, code: str, *, today: date = TODAY) -> PersonnummerError:
    with pytest.raises(PersonnummerError) as info:
        parse_personnummer(value, today=today)  # type: ignore[arg-type]
    assert info.value.code == code
    return info.value


# --- check digit -------------------------------------------------------------------------


def test_luhn_check_digit_worked_by_hand():
    """The check digit follows the weights 2,1,2,... and the digit sums of the products.

    640823323: 6·2=12→1+2=3, 4, 0·2=0, 8, 2·2=4, 3, 3·2=6, 2, 3·2=6 → sum 36 → (10−6) = 4.
    811218987: 8·2=16→7, 1, 1·2=2, 2, 1·2=2, 8, 9·2=18→9, 8, 7·2=14→5 → sum 44 → 6.
    """
    assert luhn_check_digit("640823323") == 4
    assert luhn_check_digit("811218987") == 6


def test_luhn_check_digit_is_zero_when_the_sum_is_a_multiple_of_ten():
    """A digit sum ending in 0 gives check digit 0, not 10.

    000000019: 0,0,0,0,0,0,0·2=0,1,9·2=18→9 → sum 10 → (10 − 0) mod 10 = 0.
    """
    assert luhn_check_digit("000000019") == 0


@pytest.mark.parametrize("nine", ["850315982", "000229981", "991231999", "120161983"])
def test_luhn_check_digit_agrees_with_textbook_luhn(nine):
    """The module's check digit makes the ten digits pass textbook Luhn validation."""
    assert _with_check_digit(nine) == nine + str(luhn_check_digit(nine))


@pytest.mark.parametrize("bad", ["", "12345678", "1234567890", "12345678a", "１２３４５６７８９"])
def test_luhn_check_digit_refuses_anything_but_nine_ascii_digits(bad):
    """The check digit is only defined for exactly nine ASCII digits."""
    with pytest.raises(PersonnummerError) as info:
        luhn_check_digit(bad)
    assert info.value.code == PNR_FORMAT


# --- accepted forms ----------------------------------------------------------------------


def test_all_five_forms_parse_to_the_same_number():
    """YYYYMMDDNNNC, YYYYMMDD-NNNC, YYMMDD-NNNC and YYMMDDNNNC name the same person."""
    twelve = synthetic(1985, 3, 15)
    forms = [twelve, f"{twelve[:8]}-{twelve[8:]}", f"{twelve[2:8]}-{twelve[8:]}", twelve[2:]]
    parsed = {parse_personnummer(form, today=TODAY) for form in forms}
    assert parsed == {
        Personnummer(canonical=twelve, birth_date=date(1985, 3, 15), is_coordination_number=False)
    }


def test_plus_form_names_someone_born_a_century_earlier():
    """YYMMDD+NNNC is the same digits for a person who has turned 100."""
    twelve = synthetic(1925, 3, 15)
    parsed = parse_personnummer(f"{twelve[2:8]}+{twelve[8:]}", today=TODAY)
    assert parsed.canonical == twelve
    assert parsed.birth_date == date(1925, 3, 15)


def test_str_gives_twelve_digits_with_a_hyphen():
    """str() is YYYYMMDD-NNNC whatever form was parsed."""
    twelve = synthetic(1985, 3, 15)
    assert str(parse_personnummer(twelve[2:], today=TODAY)) == f"{twelve[:8]}-{twelve[8:]}"


def test_mask_hides_serial_and_check_digit():
    """mask() keeps the date for telling records apart and hides the last four digits."""
    parsed = parse_personnummer(synthetic(1985, 3, 15), today=TODAY)
    assert parsed.mask() == "19850315-****"


def test_repr_is_masked_so_logs_do_not_leak_the_number():
    """repr(), as printed by loggers and tracebacks, never shows the last four digits."""
    twelve = synthetic(1985, 3, 15)
    text = repr(parse_personnummer(twelve, today=TODAY))
    assert twelve[8:] not in text
    assert "19850315-****" in text


def test_surrounding_whitespace_is_ignored():
    """Leading and trailing whitespace from a form field does not make a number invalid."""
    twelve = synthetic(1985, 3, 15)
    assert parse_personnummer(f"  {twelve}\n", today=TODAY).canonical == twelve


def test_personnummer_is_immutable():
    """A parsed number cannot be altered after validation."""
    parsed = parse_personnummer(synthetic(1985, 3, 15), today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.canonical = "198503150000"  # type: ignore[misc]


# --- refused input -----------------------------------------------------------------------


@pytest.mark.parametrize("position", range(9))
def test_a_changed_digit_fails_the_check_digit(position):
    """Changing any single digit of YYMMDDNNN (keeping the date real) is caught."""
    twelve = synthetic(1985, 1, 15)
    # 850115982: each replacement keeps month 01-12, day 01-28 and serial 001-999, so only
    # the check digit can object (month 01 -> 11 or 02, day 15 -> 25 or 14, ...).
    replacements = {0: "7", 1: "4", 2: "1", 3: "2", 4: "2", 5: "4", 6: "8", 7: "7", 8: "1"}
    digits = twelve[2:]
    changed = digits[:position] + replacements[position] + digits[position + 1 :]
    assert changed != digits
    assert_error(changed, PNR_CHECK_DIGIT)


def test_wrong_check_digit_is_refused():
    """A number whose last digit is not its Luhn digit is refused as PNR_CHECK_DIGIT."""
    assert_error(wrong_check_digit(synthetic(1985, 3, 15)), PNR_CHECK_DIGIT)


@pytest.mark.parametrize(
    "year, month, day",
    [
        (2023, 2, 30),  # 30 February
        (2023, 4, 31),  # April has 30 days
        (1985, 13, 1),  # month 13
        (1985, 0, 10),  # month 00
        (1985, 3, 0),  # day 00
        (1985, 3, 32),  # day 32
        (1985, 3, 60),  # day 60: neither a date nor a coordination day (61-91)
    ],
)
def test_impossible_dates_are_refused(year, month, day):
    """The date must exist in the calendar, even when the check digit is right."""
    assert_error(synthetic(year, month, day), PNR_DATE)


def test_29_february_is_valid_in_a_leap_year():
    """2024 is a leap year, so 20240229 is a real date."""
    assert parse_personnummer(synthetic(2024, 2, 29), today=TODAY).birth_date == date(2024, 2, 29)


def test_29_february_is_refused_in_a_common_year():
    """2023 is not a leap year, so 20230229 is refused."""
    assert_error(synthetic(2023, 2, 29), PNR_DATE)


def test_29_february_1900_is_refused_and_2000_is_accepted():
    """Century years are leap years only when divisible by 400."""
    assert_error(synthetic(1900, 2, 29), PNR_DATE)
    assert parse_personnummer(synthetic(2000, 2, 29), today=TODAY).birth_date == date(2000, 2, 29)


def test_serial_000_is_refused_even_with_a_correct_check_digit():
    """NNN = 000 is never issued."""
    assert_error(synthetic(1985, 3, 15, serial="000"), PNR_SERIAL)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "abc",
        "19850315-123X",
        "19850315 1234",  # inner space
        "850315 - 1234",
        "19850315_1234",
        "1985-03-15-1234",
        "198503-151234",  # separator in the wrong place
        "19850315+1234",  # + belongs to the 10-digit form only
        "8503151234-",
        "850315--1234",
        "198503151",  # 9 digits
        "85031512345",  # 11 digits
        "1198503151234",  # 13 digits
        "11985031512345",  # 14 digits
        "１９８５０３１５１２３４",  # full-width digits
    ],
)
def test_malformed_input_is_refused_as_format(value):
    """Anything but the five accepted forms is refused as PNR_FORMAT."""
    assert_error(value, PNR_FORMAT)


@pytest.mark.parametrize("value", [None, 198503151234, b"198503151234", ["198503151234"]])
def test_non_text_is_refused_as_format(value):
    """A number must arrive as text; integers lose leading zeros."""
    assert_error(value, PNR_FORMAT)


def test_thirteen_digits_made_from_a_valid_number_are_refused():
    """A valid 12-digit number with one extra digit is not accepted."""
    assert_error(synthetic(1985, 3, 15) + "0", PNR_FORMAT)


def test_error_is_a_value_error_with_code_and_message():
    """PersonnummerError carries a named code and an English message for the API."""
    error = assert_error(wrong_check_digit(synthetic(1985, 3, 15)), PNR_CHECK_DIGIT)
    assert isinstance(error, ValueError)
    assert error.message == str(error)
    assert "check digit" in error.message


@pytest.mark.parametrize(
    "value, code",
    [
        (wrong_check_digit(synthetic(1985, 3, 15)), PNR_CHECK_DIGIT),
        (synthetic(2023, 2, 29), PNR_DATE),
        (synthetic(1985, 3, 15, serial="000"), PNR_SERIAL),
        (synthetic(1985, 3, 15) + "9", PNR_FORMAT),
    ],
)
def test_error_messages_never_repeat_the_number(value, code):
    """Messages can be returned and logged without leaking the submitted number."""
    error = assert_error(value, code)
    assert value not in error.message
    assert value[2:] not in error.message
    assert value[-4:] not in error.message


# --- coordination numbers ----------------------------------------------------------------


@pytest.mark.parametrize("day, real_day", [(61, 1), (75, 15), (91, 31)])
def test_coordination_number_days_61_to_91_are_valid(day, real_day):
    """A samordningsnummer has the day + 60; the birth date is the real day."""
    twelve = synthetic(1990, 1, day)
    parsed = parse_personnummer(twelve, today=TODAY)
    assert parsed.is_coordination_number is True
    assert parsed.birth_date == date(1990, 1, real_day)
    assert parsed.canonical == twelve
    assert str(parsed) == f"{twelve[:8]}-{twelve[8:]}"


def test_coordination_day_92_is_refused():
    """Day 92 would be the 32nd."""
    assert_error(synthetic(1990, 1, 92), PNR_DATE)


def test_coordination_day_must_exist_in_its_month():
    """April 31 does not exist, so day 91 in April is refused; day 90 (April 30) is fine."""
    assert_error(synthetic(1990, 4, 91), PNR_DATE)
    assert parse_personnummer(synthetic(1990, 4, 90), today=TODAY).birth_date == date(1990, 4, 30)


def test_coordination_day_89_in_february_follows_leap_years():
    """Day 89 is 29 February: valid in 1992, refused in 1991."""
    assert parse_personnummer(synthetic(1992, 2, 89), today=TODAY).birth_date == date(1992, 2, 29)
    assert_error(synthetic(1991, 2, 89), PNR_DATE)


def test_coordination_date_error_explains_the_offset():
    """The message for a bad coordination date mentions the +60 rule."""
    assert "plus 60" in assert_error(synthetic(1990, 1, 92), PNR_DATE).message


def test_ordinary_number_is_not_a_coordination_number():
    """Day 01-31 is an ordinary personnummer."""
    assert parse_personnummer(synthetic(1990, 1, 31), today=TODAY).is_coordination_number is False


def test_ten_digit_coordination_number_infers_the_century_from_the_real_date():
    """The century is inferred from the real date, not the day + 60."""
    twelve = synthetic(2026, 3, 75)  # 15 March 2026 as a coordination number
    parsed = parse_personnummer(twelve[2:], today=TODAY)
    assert parsed.birth_date == date(2026, 3, 15)


# --- century inference -------------------------------------------------------------------


@pytest.mark.parametrize(
    "year, month, day, expected_year",
    [
        (1985, 3, 15, 1985),
        (2020, 3, 15, 2020),
        (2026, 3, 15, 2026),  # born today
        (1926, 3, 16, 1926),  # 260316 would be tomorrow, so it is 1926
        (1927, 1, 1, 1927),  # 270101 would be next year
        (2000, 2, 29, 2000),
    ],
)
def test_hyphen_form_gives_the_latest_date_not_after_today(year, month, day, expected_year):
    """YYMMDD-NNNC is someone under 100: the latest matching date that is not in the future."""
    twelve = synthetic(year, month, day)
    parsed = parse_personnummer(f"{twelve[2:8]}-{twelve[8:]}", today=TODAY)
    assert parsed.birth_date.year == expected_year


@pytest.mark.parametrize(
    "year, month, day",
    [(1985, 3, 15), (2020, 3, 15), (1926, 3, 16)],
)
def test_ten_digits_without_separator_are_read_like_the_hyphen_form(year, month, day):
    """YYMMDDNNNC has no age marker, so it is read as YYMMDD-NNNC."""
    twelve = synthetic(year, month, day)
    assert parse_personnummer(twelve[2:], today=TODAY).birth_date == date(year, month, day)


@pytest.mark.parametrize(
    "year, month, day",
    [(1885, 3, 15), (1920, 3, 15), (1926, 3, 15), (1826, 3, 16)],
)
def test_plus_form_is_a_century_before_the_hyphen_reading(year, month, day):
    """YYMMDD+NNNC is someone aged 100 or more."""
    twelve = synthetic(year, month, day)
    parsed = parse_personnummer(f"{twelve[2:8]}+{twelve[8:]}", today=TODAY)
    assert parsed.birth_date == date(year, month, day)
    assert parsed.age_on(TODAY) >= 100


def test_plus_form_of_29_february_2000_is_1900_and_refused():
    """000229+NNNC would be 29 February 1900, which did not exist."""
    twelve = synthetic(2000, 2, 29)
    assert_error(f"{twelve[2:8]}+{twelve[8:]}", PNR_DATE)


def test_century_inference_depends_on_today():
    """The same 10 digits can name different centuries on different days."""
    ten = synthetic(1926, 6, 1)[2:]
    assert parse_personnummer(ten, today=date(2026, 5, 31)).birth_date.year == 1926
    assert parse_personnummer(ten, today=date(2026, 6, 1)).birth_date.year == 2026


def test_twelve_digit_form_does_not_depend_on_today():
    """The full year is written out, so ``today`` plays no part."""
    twelve = synthetic(2026, 6, 1)
    assert parse_personnummer(twelve, today=date(2000, 1, 1)).birth_date == date(2026, 6, 1)


# --- is_valid_personnummer ---------------------------------------------------------------


def test_is_valid_personnummer_is_true_for_a_valid_number():
    """The predicate accepts what parse accepts."""
    assert is_valid_personnummer(synthetic(1985, 3, 15), today=TODAY) is True


@pytest.mark.parametrize(
    "value",
    [
        wrong_check_digit(synthetic(1985, 3, 15)),
        synthetic(2023, 2, 29),
        synthetic(1985, 3, 15, serial="000"),
        "garbage",
        None,
        12345,
    ],
)
def test_is_valid_personnummer_is_false_instead_of_raising(value):
    """The predicate returns False for every refused input, including non-text."""
    assert is_valid_personnummer(value, today=TODAY) is False


# --- ages ----------------------------------------------------------------------------------


def _person(year: int, month: int, day: int) -> Personnummer:
    return parse_personnummer(synthetic(year, month, day), today=TODAY)


def test_age_on_counts_whole_years():
    """The age rises on the birthday, not before."""
    person = _person(2019, 3, 15)
    assert person.age_on(date(2026, 3, 14)) == 6
    assert person.age_on(date(2026, 3, 15)) == 7


def test_age_on_is_zero_on_the_birth_date_and_negative_before_it():
    """Before birth the age is negative, so callers can tell 'not yet born'."""
    person = _person(2026, 3, 10)
    assert person.age_on(date(2026, 3, 10)) == 0
    assert person.age_on(date(2026, 3, 9)) == -1
    assert person.age_on(date(2025, 12, 31)) == -1


def test_someone_born_29_february_is_older_from_28_february_in_a_common_year():
    """Lag (1930:173) 2 §: a year counted from 29 February ends on 28 February."""
    person = _person(2020, 2, 29)
    assert person.age_on(date(2027, 2, 27)) == 6
    assert person.age_on(date(2027, 2, 28)) == 7
    assert person.age_on(date(2028, 2, 28)) == 7  # leap year: birthday is the 29th
    assert person.age_on(date(2028, 2, 29)) == 8


def test_age_during_month_counts_a_birthday_late_in_the_month():
    """A child turning 7 on 31 March is 7 for all of March (age on the month's last day)."""
    person = _person(2019, 3, 31)
    assert person.age_during_month(2026, 3) == 7
    assert person.age_during_month(2026, 2) == 6


def test_age_during_month_of_birth_is_zero_and_before_it_negative():
    """A child born during the month is 0 that month; the month before it is -1."""
    person = _person(2026, 3, 20)
    assert person.age_during_month(2026, 3) == 0
    assert person.age_during_month(2026, 2) == -1


def test_age_during_february_counts_a_29_february_birthday_in_a_common_year():
    """The last day of February 2027 is the 28th, when a 29 February child turns 7."""
    person = _person(2020, 2, 29)
    assert person.age_during_month(2027, 2) == 7
    assert person.age_during_month(2027, 1) == 6


def test_coordination_number_ages_from_the_real_birth_date():
    """Age uses the real date, not day + 60."""
    person = parse_personnummer(synthetic(2019, 3, 75), today=TODAY)  # 15 March 2019
    assert person.age_on(date(2026, 3, 14)) == 6
    assert person.age_during_month(2026, 3) == 7
