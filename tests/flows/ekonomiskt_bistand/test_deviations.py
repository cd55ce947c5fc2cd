"""Deviation flags: declaration against registers and last month's decision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.connectors.base import KNOWN_INCOME_TYPES, IncomeRecord, SourceAnswer
from flows.connectors.file_register import FileRegister
from flows.ekonomiskt_bistand.deviations import (
    HOUSEHOLD_DIFFERS,
    INCOME_CHANGED_SINCE_LAST_DECISION,
    INCOME_DIFFERS_FROM_REGISTER,
    INCOME_LABELS_SV,
    INCOME_NOT_DECLARED,
    REGISTER_NO_ANSWER,
    UNKNOWN_INCOME_TYPE,
    Flag,
    control_month_for,
    format_amount,
    format_percent_change,
    household_deviations,
    income_deviations,
    resolve_register_incomes,
)

NBSP = "\u00a0"
MINUS = "\u2212"
ROOT = Path(__file__).resolve().parents[3]

ADULT = "198606129990"
CHILD = "201605022399"
APPLICANT = "198711092380"
PARTNER = "199304012389"


def answer(source, month, person, **amounts):
    records = tuple(IncomeRecord(source, t, a, month) for t, a in amounts.items())
    return SourceAnswer(source=source, month=month, records=records, personnummer=person)


def no_answer(source, month, person):
    return SourceAnswer(source=source, month=month, records=(), answered=False, personnummer=person)


def only(flags: list[Flag]) -> Flag:
    assert len(flags) == 1, flags
    return flags[0]


# Formatting


def test_amount_has_swedish_thousands_separator():
    """12345 is written "12 345" with a no-break space."""
    assert format_amount(12345) == f"12{NBSP}345"


def test_large_and_small_amounts():
    """1234567 → "1 234 567"; 850 stays "850"; 0 is "0"."""
    assert format_amount(1234567) == f"1{NBSP}234{NBSP}567"
    assert format_amount(850) == "850"
    assert format_amount(0) == "0"


def test_negative_amount_uses_a_real_minus_sign():
    """−1200 is written with U+2212, not a hyphen."""
    assert format_amount(-1200) == f"{MINUS}1{NBSP}200"


def test_percentage_decrease_is_rounded_and_signed_with_minus():
    """2 400 → 1 850 is −22.9 %, shown as "−23 %"."""
    assert format_percent_change(2400, 1850) == f"{MINUS}23{NBSP}%"


def test_percentage_increase_has_a_plus_sign():
    """1 000 → 1 150 is "+15 %"."""
    assert format_percent_change(1000, 1150) == f"+15{NBSP}%"


def test_percentage_half_rounds_up():
    """A change of exactly 12.5 % is shown as 13 %, in both directions."""
    assert format_percent_change(200, 225) == f"+13{NBSP}%"
    assert format_percent_change(200, 175) == f"{MINUS}13{NBSP}%"


def test_percentage_is_relative_to_the_first_value():
    """1 000 → 2 000 is +100 % (not +50 %)."""
    assert format_percent_change(1000, 2000) == f"+100{NBSP}%"


def test_percentage_needs_a_positive_start():
    """There is no percentage of a change from 0."""
    with pytest.raises(ValueError):
        format_percent_change(0, 100)


def test_every_income_key_has_a_swedish_label():
    """INCOME_LABELS_SV labels exactly the eleven application income keys."""
    assert set(INCOME_LABELS_SV) == KNOWN_INCOME_TYPES
    assert INCOME_LABELS_SV["housing_allowance"] == "Bostadsbidrag"
    assert INCOME_LABELS_SV["salary_net"] == "Lön (netto)"


# Months


def test_control_month_is_the_month_before():
    """Application for 2026-03 is controlled against 2026-02."""
    assert control_month_for("2026-03") == "2026-02"


def test_control_month_crosses_the_year():
    """Application for 2026-01 is controlled against 2025-12."""
    assert control_month_for("2026-01") == "2025-12"


def test_control_month_rejects_a_malformed_period():
    """A period that is not "YYYY-MM" raises ValueError."""
    with pytest.raises(ValueError):
        control_month_for("2026-3")


# Income deviations


def test_decrease_against_register():
    """Declared 2 400, register 1 850: "Bostadsbidrag −23 % (2 400 → 1 850)" from the register."""
    flag = only(
        income_deviations(
            declared={"housing_allowance": 2400},
            register={"housing_allowance": 1850},
            previous=None,
        )
    )
    assert flag.code == INCOME_DIFFERS_FROM_REGISTER
    assert (
        flag.text == f"Bostadsbidrag {MINUS}23{NBSP}% (2{NBSP}400 → 1{NBSP}850): ansökan → register"
    )
    assert (flag.origin, flag.severity, flag.before, flag.after) == (
        "register",
        "warning",
        2400,
        1850,
    )
    assert flag.income_type == "housing_allowance"


def test_increase_against_register():
    """Declared 10 000, register 12 345: "Lön (netto) +23 % (10 000 → 12 345)"."""
    flag = only(
        income_deviations(
            declared={"salary_net": 10000}, register={"salary_net": 12345}, previous=None
        )
    )
    assert flag.code == INCOME_DIFFERS_FROM_REGISTER
    assert flag.text == f"Lön (netto) +23{NBSP}% (10{NBSP}000 → 12{NBSP}345): ansökan → register"


def test_small_difference_is_still_flagged():
    """A 5-krona difference is a deviation: every difference is shown with its size."""
    flag = only(
        income_deviations(declared={"pension": 11480}, register={"pension": 11485}, previous=None)
    )
    assert flag.text == f"Pension +0{NBSP}% (11{NBSP}480 → 11{NBSP}485): ansökan → register"


def test_matching_amounts_give_no_flag():
    """Declared equals register and last decision: nothing to flag."""
    assert (
        income_deviations(
            declared={"child_allowance": 1250},
            register={"child_allowance": 1250},
            previous={"child_allowance": 1250},
        )
        == []
    )


def test_income_in_register_but_not_declared():
    """Register has salary 12 800 the applicant left out: INCOME_NOT_DECLARED, no percentage."""
    flag = only(income_deviations(declared={}, register={"salary_net": 12800}, previous=None))
    assert flag.code == INCOME_NOT_DECLARED
    assert flag.text == f"Lön (netto) (0 → 12{NBSP}800): finns i registret men inte i ansökan"
    assert (flag.before, flag.after, flag.origin) == (0, 12800, "register")


def test_declared_income_that_the_register_reports_as_zero():
    """Declared sickness benefit 7 100 but the answering register paid nothing: −100 %."""
    flag = only(income_deviations(declared={"sickness_benefit": 7100}, register={}, previous=None))
    assert flag.code == INCOME_DIFFERS_FROM_REGISTER
    assert flag.text == f"Sjukpenning {MINUS}100{NBSP}% (7{NBSP}100 → 0): ansökan → register"
    assert flag.after == 0


def test_missing_source_is_flagged_and_never_treated_as_zero():
    """CSN did not answer: one REGISTER_NO_ANSWER warning, and declared student aid is not
    compared with zero."""
    flag = only(
        income_deviations(
            declared={"student_aid": 13170},
            register={},
            previous=None,
            missing_sources=["csn"],
        )
    )
    assert flag.code == REGISTER_NO_ANSWER
    assert flag.text == "CSN svarade inte — uppgiften saknas"
    assert (flag.severity, flag.origin, flag.income_type) == ("warning", "robot", None)


def test_register_value_none_is_unknown_not_zero():
    """A register amount given as None is not compared with the declaration."""
    assert (
        income_deviations(declared={"pension": 9000}, register={"pension": None}, previous=None)
        == []
    )


def test_missing_source_compares_last_decision_with_the_declaration():
    """With CSN silent, the change since last decision uses the declared amount (applicant)."""
    flags = income_deviations(
        declared={"student_aid": 13170},
        register={},
        previous={"student_aid": 12940},
        missing_sources=["csn"],
    )
    change = [f for f in flags if f.code == INCOME_CHANGED_SINCE_LAST_DECISION]
    assert only(change).origin == "applicant"
    assert only(change).text == (
        f"Studiemedel +2{NBSP}% (12{NBSP}940 → 13{NBSP}170): förra beslutet → ansökan"
    )


def test_unknown_register_income_type_is_flagged_with_its_amount():
    """foreign_pension from the register is flagged for manual assessment, not dropped."""
    flag = only(
        income_deviations(
            declared={},
            register={},
            previous=None,
            unknown_register_types={"foreign_pension": 1315},
        )
    )
    assert flag.code == UNKNOWN_INCOME_TYPE
    assert flag.income_type == "foreign_pension"
    assert (
        flag.text
        == f"Okänd inkomsttyp i registret: foreign_pension 1{NBSP}315 — bedöm om den ska räknas"
    )
    assert flag.after == 1315


def test_change_since_last_decision_above_threshold_is_a_warning():
    """Housing allowance 2 400 last month, 1 850 now: −23 % is a warning."""
    flags = income_deviations(
        declared={"housing_allowance": 1850},
        register={"housing_allowance": 1850},
        previous={"housing_allowance": 2400},
    )
    flag = only(flags)
    assert flag.code == INCOME_CHANGED_SINCE_LAST_DECISION
    assert flag.text == (
        f"Bostadsbidrag {MINUS}23{NBSP}% (2{NBSP}400 → 1{NBSP}850): förra beslutet → register"
    )
    assert (flag.severity, flag.origin, flag.before, flag.after) == (
        "warning",
        "register",
        2400,
        1850,
    )


def test_small_change_since_last_decision_is_information():
    """Pension 11 240 → 11 480 (+2 %) is shown as information, not a warning."""
    flag = only(
        income_deviations(
            declared={"pension": 11480}, register={"pension": 11480}, previous={"pension": 11240}
        )
    )
    assert flag.severity == "info"


def test_income_that_stopped_since_last_decision():
    """Sickness benefit 14 200 last decision, nothing now: flagged −100 % as a warning."""
    flag = only(income_deviations(declared={}, register={}, previous={"sickness_benefit": 14200}))
    assert flag.code == INCOME_CHANGED_SINCE_LAST_DECISION
    assert (
        flag.text == f"Sjukpenning {MINUS}100{NBSP}% (14{NBSP}200 → 0): förra beslutet → register"
    )
    assert flag.severity == "warning"


def test_first_application_has_no_change_flags():
    """previous=None (first application) gives no INCOME_CHANGED_SINCE_LAST_DECISION."""
    flags = income_deviations(
        declared={"salary_net": 100}, register={"salary_net": 100}, previous=None
    )
    assert flags == []


def test_flag_order_is_missing_sources_then_types_then_unknown():
    """Silent registers come first, then income types in label order, then unknown types."""
    flags = income_deviations(
        declared={"housing_allowance": 2400, "salary_net": 5000},
        register={"housing_allowance": 1850, "salary_net": 5500},
        previous=None,
        unknown_register_types={"foreign_pension": 10},
        missing_sources=["csn"],
    )
    assert [(f.code, f.income_type) for f in flags] == [
        (REGISTER_NO_ANSWER, None),
        (INCOME_DIFFERS_FROM_REGISTER, "salary_net"),
        (INCOME_DIFFERS_FROM_REGISTER, "housing_allowance"),
        (UNKNOWN_INCOME_TYPE, "foreign_pension"),
    ]


def test_flag_as_dict_has_every_field():
    """as_dict() gives code, income_type, severity, text, origin, before and after."""
    flag = Flag("X", "pension", "info", "t", "robot", 1, 2)
    assert flag.as_dict() == {
        "code": "X",
        "income_type": "pension",
        "severity": "info",
        "text": "t",
        "origin": "robot",
        "before": 1,
        "after": 2,
    }


# resolve_register_incomes


def test_resolve_sums_household_members():
    """Child allowance paid half to each parent sums to the household's 2 500."""
    known, unknown, missing = resolve_register_incomes(
        answers=[
            answer("forsakringskassan", "2026-02", "A", child_allowance=1250),
            answer("forsakringskassan", "2026-02", "B", child_allowance=1250),
        ],
        control_month="2026-02",
    )
    assert (known, unknown, missing) == ({"child_allowance": 2500}, {}, [])


def test_resolve_separates_unknown_types():
    """foreign_pension goes to the unknown dict, pension to the known one."""
    known, unknown, _ = resolve_register_incomes(
        answers=[
            answer("pensionsmyndigheten", "2026-02", "A", pension=11480, foreign_pension=1315)
        ],
        control_month="2026-02",
    )
    assert known == {"pension": 11480}
    assert unknown == {"foreign_pension": 1315}


def test_resolve_fills_a_gap_from_the_month_before():
    """No housing allowance record in February: January's 2 400 fills the gap."""
    known, _, _ = resolve_register_incomes(
        answers=[answer("forsakringskassan", "2026-02", "A", activity_support=6200)],
        control_month="2026-02",
        fallback_answers=[
            answer(
                "forsakringskassan", "2026-01", "A", activity_support=6820, housing_allowance=2400
            )
        ],
    )
    assert known == {"activity_support": 6200, "housing_allowance": 2400}


def test_resolve_fills_gaps_per_person():
    """Person B's January record does not fill a gap person A has; A's own value is kept."""
    known, _, _ = resolve_register_incomes(
        answers=[
            answer("skatteverket", "2026-02", "A", salary_net=18400),
            answer("skatteverket", "2026-02", "B"),
        ],
        control_month="2026-02",
        fallback_answers=[
            answer("skatteverket", "2026-01", "A", salary_net=17000),
            answer("skatteverket", "2026-01", "B", salary_net=1200),
        ],
    )
    assert known == {"salary_net": 18400 + 1200}


def test_resolve_reports_a_silent_source_and_does_not_fill_it():
    """CSN silent in February is missing; January's CSN answer does not hide the gap."""
    known, _, missing = resolve_register_incomes(
        answers=[no_answer("csn", "2026-02", "A"), answer("skatteverket", "2026-02", "A")],
        control_month="2026-02",
        fallback_answers=[answer("csn", "2026-01", "A", student_aid=12940)],
    )
    assert missing == ["csn"]
    assert known == {}


def test_resolve_lists_each_missing_source_once():
    """Two household members without a CSN answer give one missing source."""
    _, _, missing = resolve_register_incomes(
        answers=[no_answer("csn", "2026-02", "A"), no_answer("csn", "2026-02", "B")],
        control_month="2026-02",
    )
    assert missing == ["csn"]


def test_resolve_rejects_answers_for_another_month():
    """An answer for a month other than the control month is a mistake, not data."""
    with pytest.raises(ValueError):
        resolve_register_incomes(
            answers=[answer("csn", "2026-01", "A", student_aid=1)], control_month="2026-02"
        )


# Household deviations


def test_registered_adult_not_declared():
    """An adult registered at the address but missing from the application is a warning."""
    flag = only(
        household_deviations(
            declared_members=[(APPLICANT, "applicant"), (CHILD, "child")],
            registered_members=[(APPLICANT, "applicant"), (CHILD, "child"), (ADULT, "other_adult")],
        )
    )
    assert flag.code == HOUSEHOLD_DIFFERS
    assert flag.text == (
        "En vuxen person (19860612-****) är folkbokförd på adressen men finns inte med i ansökan"
    )
    assert (flag.severity, flag.origin) == ("warning", "register")


def test_declared_partner_not_registered():
    """A declared sambo who is not registered at the address is flagged from the applicant."""
    flag = only(
        household_deviations(
            declared_members=[(APPLICANT, "applicant"), (PARTNER, "partner")],
            registered_members=[(APPLICANT, "applicant")],
        )
    )
    assert flag.text == (
        "En vuxen person (sambo, 19930401-****) finns med i ansökan "
        "men är inte folkbokförd på adressen"
    )
    assert flag.origin == "applicant"


def test_registered_child_not_declared():
    """A registered child missing from the application is flagged as "Ett barn"."""
    flag = only(
        household_deviations(
            declared_members=[(APPLICANT, "applicant")],
            registered_members=[(APPLICANT, "applicant"), (CHILD, "child")],
        )
    )
    assert (
        flag.text
        == "Ett barn (20160502-****) är folkbokfört på adressen men finns inte med i ansökan"
    )


def test_relation_differs():
    """Declared as sambo but registered as another adult is a warning."""
    flag = only(
        household_deviations(
            declared_members=[(APPLICANT, "applicant"), (ADULT, "partner")],
            registered_members=[(APPLICANT, "applicant"), (ADULT, "other_adult")],
        )
    )
    assert (
        flag.text
        == "En person (19860612-****) anges som sambo i ansökan men är folkbokförd som annan vuxen"
    )
    assert flag.severity == "warning"


def test_spouse_against_sambo_is_information():
    """Spouse in one list and sambo in the other is the same couple for the norm: info only."""
    flag = only(
        household_deviations(
            declared_members=[(APPLICANT, "applicant"), (ADULT, "partner")],
            registered_members=[(APPLICANT, "applicant"), (ADULT, "spouse")],
        )
    )
    assert flag.severity == "info"


def test_same_household_gives_no_flag():
    """Identical lists, hyphenated or not, give no flag."""
    assert (
        household_deviations(
            declared_members=[(APPLICANT, "applicant"), (f"{CHILD[:8]}-{CHILD[8:]}", "child")],
            registered_members=[(APPLICANT, "applicant"), (CHILD, "child")],
        )
        == []
    )


def test_no_personnummer_in_any_household_flag_text():
    """No flag text contains a full personnummer or its last four digits."""
    people = [
        (APPLICANT, "applicant"),
        (ADULT, "other_adult"),
        (CHILD, "child"),
        (PARTNER, "partner"),
    ]
    flags = household_deviations(declared_members=people[2:], registered_members=people[:2]) + (
        household_deviations(
            declared_members=[(ADULT, "spouse")], registered_members=[(ADULT, "child")]
        )
    )
    assert len(flags) == 5
    for flag in flags:
        for number, _ in people:
            assert number not in flag.text
            assert number[-4:] not in flag.text


# The demo data end to end


def test_demo_application_shows_the_housing_allowance_deviation():
    """Sara's application for 2026-03 against the file register gives exactly one flag."""
    application = json.loads(
        (ROOT / "data" / "demo_applications" / "etj-2026-000101.json").read_text(encoding="utf-8")
    )
    register = FileRegister(data_dir=ROOT / "data" / "register", unavailable_sources=[])
    person = application["applicant"]["personnummer"]
    control = control_month_for(application["period"])
    answers = [
        register.fetch_source(source=s, personnummer=person, month=control)
        for s in register.sources()
    ]
    known, unknown, missing = resolve_register_incomes(answers=answers, control_month=control)
    declared = {k: v for k, v in application["incomes"].items() if k != "other"}
    flag = only(
        income_deviations(
            declared=declared,
            register=known,
            previous=None,
            unknown_register_types=unknown,
            missing_sources=missing,
        )
    )
    assert flag.text.startswith(f"Bostadsbidrag {MINUS}23{NBSP}% (2{NBSP}400 → 1{NBSP}850)")
