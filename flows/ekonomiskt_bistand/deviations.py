"""Deviation flags for financial-assistance casework.

The robot's real value is here: compare, per income type, what the applicant declared, what
the registers reported for the control month and what last month's decision counted, and
show the caseworker every difference with its size ("Bostadsbidrag −23 % (2 400 → 1 850)").
A register that did not answer is a flag of its own and never counts as zero.

Everything is a pure function on plain values, so the flow, the material PDF and the tests
share one implementation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flows.connectors.base import (
    KNOWN_INCOME_TYPES,
    RELATION_APPLICANT,
    RELATION_CHILD,
    RELATION_OTHER_ADULT,
    RELATION_OTHER_CHILD,
    RELATION_PARTNER,
    RELATION_SPOUSE,
    SOURCE_INCOME_TYPES,
    SOURCE_LABELS_SV,
    SourceAnswer,
    month_validate,
)
from flows.ekonomiskt_bistand.calculation import INCOME_LABELS

# Flag codes: named constants that the material, the UI and the tests refer to.
INCOME_DIFFERS_FROM_REGISTER = "INCOME_DIFFERS_FROM_REGISTER"
INCOME_CHANGED_SINCE_LAST_DECISION = "INCOME_CHANGED_SINCE_LAST_DECISION"
INCOME_NOT_DECLARED = "INCOME_NOT_DECLARED"
UNKNOWN_INCOME_TYPE = "UNKNOWN_INCOME_TYPE"
REGISTER_NO_ANSWER = "REGISTER_NO_ANSWER"
HOUSEHOLD_DIFFERS = "HOUSEHOLD_DIFFERS"

SEVERITY_WARNING = "warning"
SEVERITY_INFO = "info"

ORIGIN_REGISTER = "register"
ORIGIN_APPLICANT = "applicant"
ORIGIN_ROBOT = "robot"

# A change since the last decision larger than this (in per cent of the earlier amount) is a
# warning; smaller changes are shown as information. Sundsvall's default threshold.
CHANGE_WARNING_THRESHOLD_PERCENT = Decimal(12)

# Swedish labels for the application's income keys, in the order the material lists them:
# the calculation's labels, so that a flag and its line always use the same word.
INCOME_LABELS_SV: dict[str, str] = INCOME_LABELS

RELATION_LABELS_SV: dict[str, str] = {
    RELATION_APPLICANT: "sökande",
    RELATION_SPOUSE: "make/maka",
    RELATION_PARTNER: "sambo",
    RELATION_CHILD: "barn",
    RELATION_OTHER_ADULT: "annan vuxen",
    RELATION_OTHER_CHILD: "annat barn",
}

_CHILD_RELATIONS = frozenset({RELATION_CHILD, RELATION_OTHER_CHILD})
_COUPLE_RELATIONS = frozenset({RELATION_SPOUSE, RELATION_PARTNER})

# Swedish number typography: no-break space between thousands and before the per cent sign,
# and a real minus sign (U+2212), so that "−23 %" never breaks across lines in the material.
NBSP = "\u00a0"
MINUS = "\u2212"
ARROW = "\u2192"
EM_DASH = "\u2014"

_SOURCE_OF_INCOME_TYPE: dict[str, str] = {
    income_type: source for source, types in SOURCE_INCOME_TYPES.items() for income_type in types
}


@dataclass(frozen=True)
class Flag:
    """One deviation for the caseworker to see, with the origin of the value it is about."""

    code: str
    income_type: str | None
    severity: str
    text: str
    origin: str
    before: int | None = None
    after: int | None = None

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


# Formatting


def format_amount(amount: int) -> str:
    """Kronor in Swedish format: 12345 → "12 345", −1200 → "−1 200" (no-break spaces)."""
    digits = f"{abs(int(amount)):,}".replace(",", NBSP)
    return f"{MINUS}{digits}" if amount < 0 else digits


def format_percent_change(before: int, after: int) -> str:
    """Change relative to `before`, whole per cent rounded half away from zero: "−23 %".

    The sign follows the direction of the change even when the rounded value is 0.
    """
    if before <= 0:
        raise ValueError("a percentage needs a positive starting amount")
    diff = after - before
    percent = (Decimal(abs(diff)) * 100 / Decimal(before)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    sign = MINUS if diff < 0 else "+"
    return f"{sign}{percent}{NBSP}%"


def _change_text(label: str, before: int, after: int) -> str:
    amounts = f"({format_amount(before)} {ARROW} {format_amount(after)})"
    if before > 0:
        return f"{label} {format_percent_change(before, after)} {amounts}"
    return f"{label} {amounts}"


def income_label_sv(income_type: str) -> str:
    """The Swedish label of an income key; an unknown key is shown as it is."""
    return INCOME_LABELS_SV.get(income_type, income_type)


def source_label_sv(source: str) -> str:
    return SOURCE_LABELS_SV.get(source, source)


def mask_personnummer(personnummer: str) -> str:
    """Keep the date part and hide the rest: "198503151234" → "19850315-****"."""
    digits = "".join(ch for ch in personnummer if ch.isdigit())
    return f"{digits[:-4]}-****"


# Months


def _previous_month(month: str) -> str:
    year, mon = (int(part) for part in month_validate(month).split("-"))
    if mon == 1:
        return f"{year - 1}-12"
    return f"{year}-{mon - 1:02d}"


def control_month_for(period: str) -> str:
    """The control month for an application period: the month before ("2026-03" → "2026-02").

    Registers report what was paid; the month applied for has not been paid yet.
    """
    return _previous_month(period)


# Register answers


def resolve_register_incomes(
    *,
    answers: list[SourceAnswer],
    control_month: str,
    fallback_answers: list[SourceAnswer] | None = None,
) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """Sum the household's register incomes for the control month.

    Returns (known income type → amount, unknown income type → amount, sources that did not
    answer). Amounts are summed over household members. A (person, source, income type) with
    no record in the control month is filled from the month before it, as in Sundsvall's
    practice; a source that did not answer in the control month is reported missing and is
    not filled, so the gap stays visible. A known type that no answer mentions is absent
    from the result: for a source that answered it means nothing was paid.
    """
    month_validate(control_month)
    fallback_month = _previous_month(control_month)
    known: dict[str, int] = {}
    unknown: dict[str, int] = {}
    missing: list[str] = []
    present: set[tuple[str | None, str, str]] = set()
    answered_in_control: set[tuple[str | None, str]] = set()

    def add(record_income_type: str, amount: int) -> None:
        target = known if record_income_type in KNOWN_INCOME_TYPES else unknown
        target[record_income_type] = target.get(record_income_type, 0) + amount

    for answer in answers:
        if answer.month != control_month:
            raise ValueError(f"answer for {answer.month} given as control month {control_month}")
        if not answer.answered:
            if answer.source not in missing:
                missing.append(answer.source)
            continue
        answered_in_control.add((answer.personnummer, answer.source))
        for record in answer.records:
            present.add((answer.personnummer, answer.source, record.income_type))
            add(record.income_type, record.amount)

    for answer in fallback_answers or []:
        if answer.month != fallback_month:
            raise ValueError(f"fallback answer for {answer.month}, expected {fallback_month}")
        if not answer.answered or (answer.personnummer, answer.source) not in answered_in_control:
            continue
        for record in answer.records:
            if (answer.personnummer, answer.source, record.income_type) in present:
                continue
            add(record.income_type, record.amount)

    return known, unknown, missing


# Deviations


def _ordered_income_types(*mappings: Iterable[str]) -> list[str]:
    seen = {income_type for mapping in mappings for income_type in mapping}
    ordered = [income_type for income_type in INCOME_LABELS_SV if income_type in seen]
    return ordered + sorted(seen - set(INCOME_LABELS_SV))


def _register_value(
    income_type: str, register: dict[str, int | None], missing: set[str]
) -> int | None:
    """The register's amount, 0 if an answering source reported nothing, None if unknown."""
    if income_type in register:
        return register[income_type]
    source = _SOURCE_OF_INCOME_TYPE.get(income_type)
    if source is None or source in missing:
        return None
    return 0


def _change_severity(before: int, after: int) -> str:
    if before <= 0 or after <= 0:
        return SEVERITY_WARNING
    percent = Decimal(abs(after - before)) * 100 / Decimal(before)
    return SEVERITY_WARNING if percent > CHANGE_WARNING_THRESHOLD_PERCENT else SEVERITY_INFO


def income_deviations(
    *,
    declared: dict[str, int],
    register: dict[str, int | None],
    previous: dict[str, int] | None,
    unknown_register_types: dict[str, int] | None = None,
    missing_sources: list[str] | None = None,
) -> list[Flag]:
    """Flag every difference between declaration, registers and last month's decision.

    `register` maps income type to the control month's amount; None (or a type whose source
    is in `missing_sources`) means unknown and is never compared as zero. A type absent from
    `register` whose source answered counts as 0. `previous` is None for a first application.
    Flags come in the order: registers that did not answer, per income type, unknown types.
    """
    missing = list(dict.fromkeys(missing_sources or []))
    missing_set = set(missing)
    flags = [
        Flag(
            code=REGISTER_NO_ANSWER,
            income_type=None,
            severity=SEVERITY_WARNING,
            text=f"{source_label_sv(source)} svarade inte {EM_DASH} uppgiften saknas",
            origin=ORIGIN_ROBOT,
        )
        for source in missing
    ]

    previous_amounts = previous or {}
    for income_type in _ordered_income_types(declared, register, previous_amounts):
        label = income_label_sv(income_type)
        declared_amount = int(declared.get(income_type, 0))
        register_amount = _register_value(income_type, register, missing_set)

        if register_amount is not None:
            if declared_amount == 0 and register_amount != 0:
                flags.append(
                    Flag(
                        code=INCOME_NOT_DECLARED,
                        income_type=income_type,
                        severity=SEVERITY_WARNING,
                        text=f"{_change_text(label, 0, register_amount)}: "
                        "finns i registret men inte i ansökan",
                        origin=ORIGIN_REGISTER,
                        before=0,
                        after=register_amount,
                    )
                )
            elif declared_amount != register_amount:
                flags.append(
                    Flag(
                        code=INCOME_DIFFERS_FROM_REGISTER,
                        income_type=income_type,
                        severity=SEVERITY_WARNING,
                        text=f"{_change_text(label, declared_amount, register_amount)}: "
                        f"ansökan {ARROW} register",
                        origin=ORIGIN_REGISTER,
                        before=declared_amount,
                        after=register_amount,
                    )
                )

        if previous is None:
            continue
        # Compare with what the robot will count now: the register's amount when known,
        # otherwise the applicant's.
        if register_amount is not None:
            current, origin, where = register_amount, ORIGIN_REGISTER, "register"
        else:
            current, origin, where = declared_amount, ORIGIN_APPLICANT, "ansökan"
        before = int(previous_amounts.get(income_type, 0))
        if current != before:
            flags.append(
                Flag(
                    code=INCOME_CHANGED_SINCE_LAST_DECISION,
                    income_type=income_type,
                    severity=_change_severity(before, current),
                    text=f"{_change_text(label, before, current)}: förra beslutet {ARROW} {where}",
                    origin=origin,
                    before=before,
                    after=current,
                )
            )

    for income_type, amount in sorted((unknown_register_types or {}).items()):
        flags.append(
            Flag(
                code=UNKNOWN_INCOME_TYPE,
                income_type=income_type,
                severity=SEVERITY_WARNING,
                text=f"Okänd inkomsttyp i registret: {income_type} {format_amount(amount)} "
                f"{EM_DASH} bedöm om den ska räknas",
                origin=ORIGIN_REGISTER,
                after=int(amount),
            )
        )
    return flags


def _person_phrase(personnummer: str, relation: str) -> tuple[str, str]:
    """("En vuxen person (sambo, 19850315-****)", "folkbokförd") without the full number."""
    mask = mask_personnummer(personnummer)
    if relation in _CHILD_RELATIONS:
        return f"Ett barn ({mask})", "folkbokfört"
    if relation == RELATION_APPLICANT:
        return f"Den sökande ({mask})", "folkbokförd"
    if relation == RELATION_OTHER_ADULT:
        return f"En vuxen person ({mask})", "folkbokförd"
    label = RELATION_LABELS_SV.get(relation, relation)
    return f"En vuxen person ({label}, {mask})", "folkbokförd"


def _normalise_members(members: list[tuple[str, str]]) -> dict[str, str]:
    return {"".join(ch for ch in number if ch.isdigit()): relation for number, relation in members}


def household_deviations(
    *,
    declared_members: list[tuple[str, str]],
    registered_members: list[tuple[str, str]],
) -> list[Flag]:
    """Flag people registered at the address but not declared, and the reverse.

    Members are (personnummer, relation) pairs. A person on both lists with a different
    relation is flagged too; spouse against sambo is information only, since the norm treats
    both as a couple. Flag texts never contain a personnummer, only a masked date of birth.
    """
    declared = _normalise_members(declared_members)
    registered = _normalise_members(registered_members)
    flags: list[Flag] = []

    for number, relation in registered.items():
        if number in declared:
            continue
        who, registered_word = _person_phrase(number, relation)
        flags.append(
            Flag(
                code=HOUSEHOLD_DIFFERS,
                income_type=None,
                severity=SEVERITY_WARNING,
                text=f"{who} är {registered_word} på adressen men finns inte med i ansökan",
                origin=ORIGIN_REGISTER,
            )
        )

    for number, relation in declared.items():
        if number in registered:
            continue
        who, registered_word = _person_phrase(number, relation)
        flags.append(
            Flag(
                code=HOUSEHOLD_DIFFERS,
                income_type=None,
                severity=SEVERITY_WARNING,
                text=f"{who} finns med i ansökan men är inte {registered_word} på adressen",
                origin=ORIGIN_APPLICANT,
            )
        )

    for number, declared_relation in declared.items():
        registered_relation = registered.get(number)
        if registered_relation is None or registered_relation == declared_relation:
            continue
        both_couple = {declared_relation, registered_relation} <= _COUPLE_RELATIONS
        flags.append(
            Flag(
                code=HOUSEHOLD_DIFFERS,
                income_type=None,
                severity=SEVERITY_INFO if both_couple else SEVERITY_WARNING,
                text=(
                    f"En person ({mask_personnummer(number)}) anges som "
                    f"{RELATION_LABELS_SV.get(declared_relation, declared_relation)} i ansökan "
                    f"men är folkbokförd som "
                    f"{RELATION_LABELS_SV.get(registered_relation, registered_relation)}"
                ),
                origin=ORIGIN_REGISTER,
            )
        )
    return flags
