"""Tests for the ekonomiskt bistånd calculation and its rule sets.

Every expected figure is worked by hand from the official 2026 riksnorm table in
SoF 2025:468 12 kap. 2 § as amended by SFS 2025:1046 and written as
explicit arithmetic, not read back from ``flows.ekonomiskt_bistand.rulesets``:

    children (standard / lunch outside home): 0: 2740/2560 · 1–2: 3060/2800 · 3: 2720/2500 ·
    4–6: 3060/2720 · 7–10: 3820 · 11–14: 4390 · 15–18: 4960 · 19–20: 5000
    adults: single 3940 · couple 7100
    household-common 1..7: 1280 1410 1790 2030 2330 2640 2830, +190 per person beyond 7
    prisbasbelopp 2026: 59 200

The period is March 2026 throughout unless a test says otherwise. Personnummer are
synthetic (serial 98x, check digit computed here).
"""

import dataclasses
import json
from datetime import date

import pytest

from flows.ekonomiskt_bistand.calculation import (
    CALC_CHILD_AGE_OUT_OF_RANGE,
    CALC_PERSONNUMMER_INVALID,
    CALC_REGISTER_INCOME_INVALID,
    CALC_REGISTER_INCOME_UNKNOWN,
    CALC_RULESET_NOT_IN_FORCE,
    Calculation,
    CalculationError,
    calculate_bistand,
)
from flows.ekonomiskt_bistand.rulesets import (
    RIKSNORM_2026,
    RULESET_PERIOD_BEFORE_FIRST,
    RULESET_PERIOD_FORMAT,
    RULESETS,
    RulesetError,
    household_common_cost,
    ruleset_for,
)
from municipality.personnummer import luhn_check_digit

PERIOD = "2026-03"


def pnr(year: int, month: int, day: int, serial: str = "982") -> str:
    nine = f"{year % 100:02d}{month:02d}{day:02d}{serial}"
    return f"{year // 100:02d}{nine}{luhn_check_digit(nine)}"


def adult(year: int = 1985, serial: str = "982", name: str = "Testperson Ett") -> dict:
    return {"personnummer": pnr(year, 6, 10, serial), "name": name}


def child(age: int, *, lunch: bool = False, serial: str = "984", **extra) -> dict:
    """A child who is ``age`` during March 2026 (born 15 January, 2026 − age)."""
    return {"personnummer": pnr(2026 - age, 1, 15, serial), "lunch_outside_home": lunch, **extra}


def application(**overrides) -> dict:
    """A version-1 application for a single adult with no costs and no incomes."""
    base = {
        "process": "ekonomiskt-bistand",
        "external_ref": "etj-2026-000123",
        "period": PERIOD,
        "applicant": adult(),
        "co_applicant": None,
        "children": [],
        "months_on_assistance": 0,
        "costs": {
            "rent": 0,
            "electricity": 0,
            "home_insurance": 0,
            "work_travel": 0,
            "union_fees": 0,
            "childcare": 0,
            "medical": 0,
            "other": [],
        },
        "incomes": {
            "salary_net": 0,
            "housing_allowance": 0,
            "child_allowance": 0,
            "large_family_supplement": 0,
            "maintenance_support": 0,
            "sickness_benefit": 0,
            "parental_benefit": 0,
            "activity_support": 0,
            "unemployment_benefit": 0,
            "pension": 0,
            "student_aid": 0,
            "other": [],
        },
        "message": "Ansökan om ekonomiskt bistånd för mars.",
    }
    for key in ("costs", "incomes"):
        base[key].update(overrides.pop(key, {}))
    base.update(overrides)
    return base


def line(lines, code: str):
    matches = [item for item in lines if item.code == code]
    assert len(matches) == 1, f"expected one line {code}, found {[i.code for i in lines]}"
    return matches[0]


def codes(lines) -> list[str]:
    return [item.code for item in lines]


# --- adults ------------------------------------------------------------------------------


def test_single_adult_gets_single_amount_and_common_costs_for_one():
    """A single adult: 3 940 + 1 280 (one person) + costs − incomes."""
    result = calculate_bistand(
        application=application(
            costs={"rent": 6500, "electricity": 300}, incomes={"housing_allowance": 2000}
        )
    )
    assert result.riksnorm == 3940 + 1280
    assert result.costs == 6500 + 300
    assert result.incomes == 2000
    assert result.need == 3940 + 1280 + 6500 + 300
    assert result.proposed_amount == 3940 + 1280 + 6500 + 300 - 2000
    assert codes(result.riksnorm_lines) == ["riksnorm.single_adult", "riksnorm.household_common"]
    single = line(result.riksnorm_lines, "riksnorm.single_adult")
    assert (single.label, single.amount, single.origin) == ("Riksnorm: ensamstående", 3940, "norm")
    assert single.basis == "SoF 2025:468 12 kap. 2 §, ensamstående"


def test_couple_gets_couple_amount_and_common_costs_for_two():
    """Makar/sambor: 7 100 together + 1 410 (two persons)."""
    result = calculate_bistand(
        application=application(
            co_applicant=adult(1987, serial="986", name="Testperson Två"),
            costs={"rent": 8000},
            incomes={"salary_net": 5000},
        )
    )
    assert result.riksnorm == 7100 + 1410
    assert result.proposed_amount == 7100 + 1410 + 8000 - 5000
    couple = line(result.riksnorm_lines, "riksnorm.couple")
    assert (couple.label, couple.amount) == ("Riksnorm: sambor/makar", 7100)
    assert [(m.role, m.index) for m in result.household] == [("applicant", 1), ("co_applicant", 1)]


def test_household_members_have_role_index_and_age_for_the_period():
    """Members are described by role, 1-based index and age during the month."""
    result = calculate_bistand(
        application=application(
            applicant={"personnummer": pnr(1985, 3, 31), "name": "A"},
            children=[child(4), child(12, serial="988")],
        )
    )
    # Born 31 March 1985: turns 41 on the last day of March 2026.
    assert [(m.role, m.index, m.age) for m in result.household] == [
        ("applicant", 1, 41),
        ("child", 1, 4),
        ("child", 2, 12),
    ]
    assert result.household[1].category == "barn 4–6 år"


# --- children ----------------------------------------------------------------------------

# (age, lunch outside home, personal cost) for every age 0–20, from the 2026 table.
CHILD_TABLE = [
    *[(0, False, 2740), (0, True, 2560)],
    *[(age, lunch, 2800 if lunch else 3060) for age in (1, 2) for lunch in (False, True)],
    *[(3, False, 2720), (3, True, 2500)],
    *[(age, lunch, 2720 if lunch else 3060) for age in (4, 5, 6) for lunch in (False, True)],
    # "–" in the table: lunch outside home does not change the amount.
    *[(age, lunch, 3820) for age in (7, 8, 9, 10) for lunch in (False, True)],
    *[(age, lunch, 4390) for age in (11, 12, 13, 14) for lunch in (False, True)],
    *[(age, lunch, 4960) for age in (15, 16, 17, 18) for lunch in (False, True)],
    *[(age, lunch, 5000) for age in (19, 20) for lunch in (False, True)],
]


@pytest.mark.parametrize("age, lunch, personal_cost", CHILD_TABLE)
def test_child_personal_cost_follows_the_age_band_and_lunch(age, lunch, personal_cost):
    """Each child age band, with and without lunch outside the home, gives the table amount."""
    result = calculate_bistand(application=application(children=[child(age, lunch=lunch)]))
    assert line(result.riksnorm_lines, "riksnorm.child.1").amount == personal_cost
    assert result.riksnorm == 3940 + personal_cost + 1410


def test_child_line_label_names_the_band():
    """The label is the band as in the table, e.g. 'Riksnorm: barn 7–10 år'."""
    result = calculate_bistand(application=application(children=[child(8)]))
    assert line(result.riksnorm_lines, "riksnorm.child.1").label == "Riksnorm: barn 7–10 år"


def test_child_line_label_mentions_lunch_where_it_changes_the_amount():
    """Lunch outside home appears in the label for the bands where it counts."""
    result = calculate_bistand(application=application(children=[child(2, lunch=True)]))
    child_line = line(result.riksnorm_lines, "riksnorm.child.1")
    assert child_line.label == "Riksnorm: barn 1–2 år, lunch utanför hemmet"
    assert child_line.amount == 2800


def test_lunch_in_a_dash_band_is_explained_but_not_counted():
    """For ages 7+ lunch outside home is noted in the basis and the amount stays standard."""
    result = calculate_bistand(application=application(children=[child(9, lunch=True)]))
    child_line = line(result.riksnorm_lines, "riksnorm.child.1")
    assert child_line.label == "Riksnorm: barn 7–10 år"
    assert "ändrar inte beloppet" in child_line.basis


def test_child_age_is_the_age_reached_during_the_month():
    """A child turning 7 on 31 March counts as 7 (3 820) in March and 6 (3 060) in February."""
    turning_seven = {"personnummer": pnr(2019, 3, 31, "984"), "lunch_outside_home": False}
    march = calculate_bistand(application=application(children=[turning_seven]))
    february = calculate_bistand(
        application=application(period="2026-02", children=[turning_seven])
    )
    assert line(march.riksnorm_lines, "riksnorm.child.1").amount == 3820
    assert line(february.riksnorm_lines, "riksnorm.child.1").amount == 3060


def test_child_born_during_the_month_is_age_zero():
    """A child born on 20 March 2026 is 0 during March 2026."""
    newborn = {"personnummer": pnr(2026, 3, 20, "984"), "lunch_outside_home": False}
    result = calculate_bistand(application=application(children=[newborn]))
    assert line(result.riksnorm_lines, "riksnorm.child.1").amount == 2740


def test_child_aged_21_is_refused():
    """A 'child' who turns 21 during the month belongs in a case of their own."""
    with pytest.raises(CalculationError) as info:
        calculate_bistand(application=application(children=[child(21)]))
    assert info.value.code == CALC_CHILD_AGE_OUT_OF_RANGE


def test_child_aged_20_is_accepted():
    """Age 20 is the last band of the table (5 000)."""
    result = calculate_bistand(application=application(children=[child(20)]))
    assert line(result.riksnorm_lines, "riksnorm.child.1").amount == 5000


def test_child_not_yet_born_in_the_period_is_refused():
    """A child born after the period's last day cannot be part of the household that month."""
    unborn = {"personnummer": pnr(2026, 4, 1, "984"), "lunch_outside_home": False}
    with pytest.raises(CalculationError) as info:
        calculate_bistand(application=application(children=[unborn]))
    assert info.value.code == CALC_CHILD_AGE_OUT_OF_RANGE


def test_child_not_living_at_home_gets_no_norm_and_does_not_count_in_household_size():
    """lives_at_home: false lists the child but charges neither its norm nor a larger household."""
    away = child(10, lives_at_home=False, work_income=3000)
    result = calculate_bistand(application=application(children=[child(5), away]))
    assert result.riksnorm == 3940 + 3060 + 1410
    assert "riksnorm.child.2" not in codes(result.riksnorm_lines)
    assert result.household[2].category == "barn, ej hemmavarande"
    # Its work income is not a household income either.
    assert result.incomes == 0


# --- household size ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "size, common",
    [(1, 1280), (2, 1410), (3, 1790), (4, 2030), (5, 2330), (6, 2640), (7, 2830)],
)
def test_household_common_cost_for_one_to_seven_persons_is_the_table(size, common):
    """Sizes 1–7 are read from the table."""
    assert household_common_cost(ruleset=RIKSNORM_2026, size=size) == common


def test_household_of_eight_adds_one_step_of_190():
    """Couple + 6 children aged 8: 7 100 + 6 × 3 820 + (2 830 + 190)."""
    result = calculate_bistand(
        application=application(
            co_applicant=adult(1987, serial="986"),
            children=[child(8, serial=f"9{n}1") for n in range(6)],
        )
    )
    assert line(result.riksnorm_lines, "riksnorm.household_common").amount == 2830 + 190
    assert result.riksnorm == 7100 + 6 * 3820 + 2830 + 190


def test_household_of_nine_adds_two_steps_of_190():
    """Couple + 7 children aged 8: 7 100 + 7 × 3 820 + (2 830 + 2 × 190)."""
    result = calculate_bistand(
        application=application(
            co_applicant=adult(1987, serial="986"),
            children=[child(8, serial=f"9{n}1") for n in range(7)],
        )
    )
    common = line(result.riksnorm_lines, "riksnorm.household_common")
    assert common.amount == 2830 + 2 * 190
    assert common.label == "Riksnorm: hushållsgemensamma kostnader, 9 personer"
    assert "2 830 kr för 7 personer + 2 × 190 kr" in common.basis
    assert result.riksnorm == 7100 + 7 * 3820 + 2830 + 2 * 190


# --- shared household --------------------------------------------------------------------


def test_shared_household_charges_an_equal_share_of_the_common_costs():
    """Single applicant + 2 other adults: 3 940 + 1 790 / 3 = 596.67 → 597."""
    result = calculate_bistand(
        application=application(
            other_adults=[adult(1990, serial="988"), adult(1992, serial="990")],
            costs={"rent": 3000},
        )
    )
    common = line(result.riksnorm_lines, "riksnorm.household_common")
    assert common.amount == 597
    assert common.label == "Riksnorm: hushållsgemensamma kostnader, andel 1 av 3 personer"
    assert result.riksnorm == 3940 + 597
    assert result.proposed_amount == 3940 + 597 + 3000
    assert line(result.riksnorm_lines, "riksnorm.single_adult").amount == 3940


def test_shared_household_matches_socialstyrelsens_worked_example_shape():
    """One of five persons pays 2 330 / 5 = 466 of the common costs, plus 3 940."""
    others = [adult(1980 + n, serial=f"98{n}") for n in range(4)]
    result = calculate_bistand(application=application(other_adults=others))
    assert result.riksnorm == 3940 + 2330 // 5
    assert 2330 % 5 == 0  # the share is exact here, no rounding involved


def test_shared_household_share_rounds_half_up():
    """Single applicant + 3 other adults: 2 030 / 4 = 507.5 → 508 (half up)."""
    others = [adult(1980 + n, serial=f"98{n}") for n in range(3)]
    result = calculate_bistand(application=application(other_adults=others))
    assert line(result.riksnorm_lines, "riksnorm.household_common").amount == 508


def test_shared_household_share_counts_the_applicants_children():
    """Applicant + 2 children + 1 other adult: 2 030 × 3 / 4 = 1 522.5 → 1 523."""
    result = calculate_bistand(
        application=application(
            children=[child(5), child(9, serial="986")],
            other_adults=[adult(1990, serial="988")],
        )
    )
    assert line(result.riksnorm_lines, "riksnorm.household_common").amount == 1523
    assert result.riksnorm == 3940 + 3060 + 3820 + 1523


def test_other_adults_are_listed_but_get_no_personal_amount_here():
    """Other adults have their own norm in their own case; here they only enlarge the household."""
    result = calculate_bistand(application=application(other_adults=[adult(1990, serial="988")]))
    assert [(m.role, m.index) for m in result.household] == [
        ("applicant", 1),
        ("other_adult", 1),
    ]
    # 3 940 for the applicant and half of 1 410; no second 3 940.
    assert result.riksnorm == 3940 + 1410 // 2


# --- costs -------------------------------------------------------------------------------


def test_every_non_zero_cost_and_other_item_gets_its_own_line():
    """Declared costs become lines in a fixed order; zero amounts are left out."""
    result = calculate_bistand(
        application=application(
            costs={
                "rent": 6500,
                "electricity": 350,
                "home_insurance": 120,
                "work_travel": 0,
                "union_fees": 400,
                "childcare": 0,
                "medical": 200,
                "other": [
                    {"description": "Akut tandvård", "amount": 900},
                    {"description": "Glasögon", "amount": 0},
                    {"description": "Flyttkostnad", "amount": 1500},
                ],
            }
        )
    )
    assert [(c.code, c.label, c.amount) for c in result.cost_lines] == [
        ("cost.rent", "Hyra", 6500),
        ("cost.electricity", "Hushållsel", 350),
        ("cost.home_insurance", "Hemförsäkring", 120),
        ("cost.union_fees", "Fackavgift och a-kassa", 400),
        ("cost.medical", "Läkarvård och medicin", 200),
        ("cost.other.1", "Övrig kostnad: Akut tandvård", 900),
        ("cost.other.3", "Övrig kostnad: Flyttkostnad", 1500),
    ]
    assert result.costs == 6500 + 350 + 120 + 400 + 200 + 900 + 1500
    assert {c.origin for c in result.cost_lines} == {"applicant"}
    assert line(result.cost_lines, "cost.rent").basis.startswith("SoL 2025:400 12 kap. 7 §")


# --- incomes -----------------------------------------------------------------------------


def test_incomes_exceeding_the_need_give_zero():
    """When counted incomes exceed riksnorm + costs, the proposal is 0, not negative."""
    result = calculate_bistand(
        application=application(costs={"rent": 5000}, incomes={"unemployment_benefit": 15000})
    )
    assert result.need == 3940 + 1280 + 5000
    assert result.incomes == 15000
    assert result.proposed_amount == 0


def test_every_income_counts_with_its_swedish_label():
    """All household incomes count, each on its own line, other items included."""
    result = calculate_bistand(
        application=application(
            children=[child(5)],
            incomes={
                "child_allowance": 1250,
                "housing_allowance": 1800,
                "maintenance_support": 1673,
                "other": [{"description": "Skatteåterbäring", "amount": 500}],
            },
        )
    )
    assert [(i.code, i.label, i.amount) for i in result.income_lines] == [
        ("income.housing_allowance", "Bostadsbidrag", 1800),
        ("income.child_allowance", "Barnbidrag", 1250),
        ("income.maintenance_support", "Underhållsstöd", 1673),
        ("income.other.1", "Övrig inkomst: Skatteåterbäring", 500),
    ]
    assert result.incomes == 1800 + 1250 + 1673 + 500
    assert result.proposed_amount == 3940 + 3060 + 1410 - (1800 + 1250 + 1673 + 500)


@pytest.mark.parametrize(
    "months, disregarded",
    [(0, False), (5, False), (6, True), (17, True), (29, True), (30, False), (48, False)],
)
def test_work_income_disregard_applies_in_months_6_to_29(months, disregarded):
    """25 % of salary is not counted from month 6 on assistance, for 24 months (6..29)."""
    result = calculate_bistand(
        application=application(months_on_assistance=months, incomes={"salary_net": 8000})
    )
    if disregarded:
        disregard = line(result.income_lines, "income.work_income_disregard")
        assert disregard.amount == -(8000 * 25 // 100)
        assert disregard.origin == "robot"
        assert result.incomes == 8000 - 2000
    else:
        assert "income.work_income_disregard" not in codes(result.income_lines)
        assert result.incomes == 8000


def test_work_income_disregard_is_a_separate_line_after_the_salary():
    """The disregard follows the salary line so the reader sees both."""
    result = calculate_bistand(
        application=application(
            months_on_assistance=6, incomes={"salary_net": 8000, "housing_allowance": 1000}
        )
    )
    assert codes(result.income_lines)[:3] == [
        "income.salary_net",
        "income.work_income_disregard",
        "income.housing_allowance",
    ]
    assert "12 kap. 8 §" in result.income_lines[1].basis


def test_work_income_disregard_rounds_half_up():
    """25 % of 8 002 is 2 000.5, rounded half up to 2 001."""
    result = calculate_bistand(
        application=application(months_on_assistance=10, incomes={"salary_net": 8002})
    )
    assert line(result.income_lines, "income.work_income_disregard").amount == -2001
    assert result.incomes == 8002 - 2001


def test_child_work_income_below_the_monthly_ceiling_is_not_counted():
    """3 000 is below 59 200 / 12 = 4 933.33 → 4 933, so all of it is disregarded."""
    result = calculate_bistand(application=application(children=[child(16, work_income=3000)]))
    assert line(result.income_lines, "income.child_work.1").amount == 3000
    assert line(result.income_lines, "income.child_work_disregard.1").amount == -3000
    assert result.incomes == 0
    assert result.proposed_amount == 3940 + 4960 + 1410


def test_child_work_income_above_the_monthly_ceiling_counts_the_excess():
    """6 000 − 4 933 (59 200 / 12 rounded down) = 1 067 counts."""
    result = calculate_bistand(application=application(children=[child(16, work_income=6000)]))
    disregard = line(result.income_lines, "income.child_work_disregard.1")
    assert disregard.amount == -(59200 // 12)
    assert disregard.amount == -4933
    assert disregard.origin == "robot"
    assert result.incomes == 6000 - 4933
    assert result.proposed_amount == 3940 + 4960 + 1410 - 1067


def test_child_summer_job_is_free_while_the_yearly_amount_lasts():
    """With nothing earned earlier this year, a 20 000 summer job is fully disregarded."""
    summer = child(17, work_income=20000, work_income_year_to_date=0)
    result = calculate_bistand(application=application(period="2026-07", children=[summer]))
    assert line(result.income_lines, "income.child_work_disregard.1").amount == -20000
    assert result.incomes == 0


def test_child_work_income_counts_beyond_the_prisbasbelopp_for_the_year():
    """50 000 earned earlier leaves 59 200 − 50 000 = 9 200; of 12 000, 2 800 counts."""
    working = child(18, work_income=12000, work_income_year_to_date=50000)
    result = calculate_bistand(application=application(period="2026-08", children=[working]))
    assert line(result.income_lines, "income.child_work_disregard.1").amount == -(59200 - 50000)
    assert result.incomes == 12000 - (59200 - 50000)


def test_child_work_income_counts_in_full_once_the_year_is_used_up():
    """After 60 000 earlier in the year nothing is left to disregard."""
    working = child(18, work_income=4000, work_income_year_to_date=60000)
    result = calculate_bistand(application=application(period="2026-10", children=[working]))
    assert line(result.income_lines, "income.child_work_disregard.1").amount == 0
    assert result.incomes == 4000


# --- register incomes --------------------------------------------------------------------


def test_register_income_replaces_the_declared_amount():
    """A register figure replaces the applicant's and the line says so."""
    result = calculate_bistand(
        application=application(incomes={"housing_allowance": 2400, "child_allowance": 1250}),
        register_incomes={"housing_allowance": 1850},
    )
    housing = line(result.income_lines, "income.housing_allowance")
    assert (housing.amount, housing.origin) == (1850, "register")
    assert "2 400 kr" in housing.basis
    assert line(result.income_lines, "income.child_allowance").origin == "applicant"
    assert result.incomes == 1850 + 1250
    assert result.proposed_amount == 3940 + 1280 - (1850 + 1250)


def test_register_income_reported_where_nothing_was_declared_is_counted():
    """An income only the register knows about still counts, with origin register."""
    result = calculate_bistand(
        application=application(), register_incomes={"sickness_benefit": 4200}
    )
    sickness = line(result.income_lines, "income.sickness_benefit")
    assert (sickness.amount, sickness.origin) == (4200, "register")
    assert result.incomes == 4200


def test_register_zero_keeps_a_visible_line():
    """A register 0 replacing a declared amount stays as a 0 line so the change is visible."""
    result = calculate_bistand(
        application=application(incomes={"housing_allowance": 2400}),
        register_incomes={"housing_allowance": 0},
    )
    housing = line(result.income_lines, "income.housing_allowance")
    assert (housing.amount, housing.origin) == (0, "register")
    assert result.incomes == 0


def test_register_salary_drives_the_work_income_disregard():
    """The 25 % is taken of the register salary when the register replaced the declared one."""
    result = calculate_bistand(
        application=application(months_on_assistance=8, incomes={"salary_net": 9000}),
        register_incomes={"salary_net": 10000},
    )
    assert line(result.income_lines, "income.work_income_disregard").amount == -2500
    assert result.incomes == 10000 - 2500


@pytest.mark.parametrize("key", ["other", "lottery", "rent"])
def test_unknown_register_income_key_is_refused(key):
    """Only the named income keys can come from a register."""
    with pytest.raises(CalculationError) as info:
        calculate_bistand(application=application(), register_incomes={key: 100})
    assert info.value.code == CALC_REGISTER_INCOME_UNKNOWN


@pytest.mark.parametrize("amount", [-1, 12.5, "1000", True, None])
def test_register_income_must_be_a_non_negative_int(amount):
    """Register amounts are whole, non-negative kronor."""
    with pytest.raises(CalculationError) as info:
        calculate_bistand(application=application(), register_incomes={"housing_allowance": amount})
    assert info.value.code == CALC_REGISTER_INCOME_INVALID


# --- rule sets ---------------------------------------------------------------------------


def test_riksnorm_2026_is_in_force_for_every_month_of_2026():
    """January and December 2026 both use riksnorm-2026."""
    assert ruleset_for("2026-01") is RIKSNORM_2026
    assert ruleset_for("2026-12") is RIKSNORM_2026


def test_period_before_the_first_ruleset_is_refused():
    """December 2025 precedes riksnorm-2026, the first rule set, and raises a named error."""
    with pytest.raises(RulesetError) as info:
        ruleset_for("2025-12")
    assert info.value.code == RULESET_PERIOD_BEFORE_FIRST
    assert "2026-01-01" in info.value.message


def test_calculation_for_a_period_before_the_first_ruleset_is_refused():
    """The calculation passes the rule-set error on rather than guessing figures."""
    with pytest.raises(RulesetError) as info:
        calculate_bistand(application=application(period="2025-12"))
    assert info.value.code == RULESET_PERIOD_BEFORE_FIRST


@pytest.mark.parametrize("period", ["2026-3", "2026-13", "2026-00", "202603", "mars", "", None])
def test_malformed_period_is_refused(period):
    """A period is YYYY-MM with month 01–12."""
    with pytest.raises(RulesetError) as info:
        ruleset_for(period)
    assert info.value.code == RULESET_PERIOD_FORMAT


def test_latest_ruleset_in_force_is_chosen():
    """With a later rule set registered, each period gets the latest one already in force."""
    later = dataclasses.replace(
        RIKSNORM_2026, version="test-later", effective_from=date(2027, 1, 1), single_adult=4000
    )
    registry = [later, RIKSNORM_2026]  # order in the registry does not matter
    assert ruleset_for("2026-12", rulesets=registry) is RIKSNORM_2026
    assert ruleset_for("2027-01", rulesets=registry) is later
    assert ruleset_for("2027-06", rulesets=registry) is later


def test_pinned_ruleset_is_used_and_recorded():
    """A caller can pin a rule set; the result names the version it used."""
    pinned = dataclasses.replace(
        RIKSNORM_2026, version="test-pinned", source="test source", single_adult=4000
    )
    result = calculate_bistand(application=application(), ruleset=pinned)
    assert (result.ruleset_version, result.ruleset_source) == ("test-pinned", "test source")
    assert result.riksnorm == 4000 + 1280


def test_pinned_ruleset_not_yet_in_force_is_refused():
    """A rule set taking effect after the period cannot be used for it."""
    later = dataclasses.replace(
        RIKSNORM_2026, version="test-later", effective_from=date(2027, 1, 1)
    )
    with pytest.raises(CalculationError) as info:
        calculate_bistand(application=application(), ruleset=later)
    assert info.value.code == CALC_RULESET_NOT_IN_FORCE


def test_registry_is_ordered_with_unique_versions():
    """Rule sets are registered oldest first with one version per effective date."""
    dates = [r.effective_from for r in RULESETS]
    assert dates == sorted(dates)
    assert len(set(dates)) == len(dates)
    assert len({r.version for r in RULESETS}) == len(RULESETS)


def test_ruleset_2026_carries_its_source_and_the_2026_prisbasbelopp():
    """The 2026 rule set cites its SFS and uses prisbasbelopp 59 200 (SFS 2025:872)."""
    assert RIKSNORM_2026.version == "riksnorm-2026"
    assert RIKSNORM_2026.effective_from == date(2026, 1, 1)
    assert RIKSNORM_2026.source == "SoF 2025:468 12 kap. 2 § i lydelse enligt SFS 2025:1046"
    assert RIKSNORM_2026.price_base_amount == 59200
    assert RIKSNORM_2026.child_allowance_per_child == 1250
    assert (
        RIKSNORM_2026.household_common[6] - RIKSNORM_2026.household_common[5]
        == RIKSNORM_2026.household_common_step_beyond_table
        == 190
    )


def test_result_records_the_ruleset_and_period():
    """The calculation is bound to the version and source it used."""
    result = calculate_bistand(application=application())
    assert result.ruleset_version == "riksnorm-2026"
    assert result.ruleset_source == "SoF 2025:468 12 kap. 2 § i lydelse enligt SFS 2025:1046"
    assert result.period == PERIOD


# --- errors ------------------------------------------------------------------------------


def test_invalid_personnummer_is_refused_without_echoing_it():
    """A bad number in the application gives a named error that names the member only."""
    bad = pnr(2019, 1, 15, "984")
    bad = bad[:-1] + str((int(bad[-1]) + 1) % 10)
    with pytest.raises(CalculationError) as info:
        calculate_bistand(
            application=application(children=[{"personnummer": bad, "lunch_outside_home": False}])
        )
    assert info.value.code == CALC_PERSONNUMMER_INVALID
    assert "child 1" in info.value.message
    assert bad not in info.value.message and bad[-4:] not in info.value.message


# --- the whole result --------------------------------------------------------------------


def _full_household() -> Calculation:
    return calculate_bistand(
        application=application(
            co_applicant=adult(1987, serial="986", name="Testperson Två"),
            children=[
                child(0, lunch=True),
                child(8, serial="986", work_income=6000),
                child(19, serial="988", work_income=2000, work_income_year_to_date=58000),
            ],
            other_adults=[adult(1960, serial="990", name="Testperson Tre")],
            months_on_assistance=12,
            costs={
                "rent": 9800,
                "electricity": 450,
                "childcare": 300,
                "other": [{"description": "Akut tandvård", "amount": 1200}],
            },
            incomes={
                "salary_net": 10001,
                "housing_allowance": 2400,
                "child_allowance": 3750,
                "large_family_supplement": 730,
                "other": [{"description": "Gåva", "amount": 250}],
            },
        ),
        register_incomes={"housing_allowance": 1850},
    )


def test_sum_of_lines_equals_the_totals():
    """Riksnorm, costs and incomes are exactly the sums of their lines, and the result follows."""
    result = _full_household()
    assert result.riksnorm == sum(item.amount for item in result.riksnorm_lines)
    assert result.costs == sum(item.amount for item in result.cost_lines)
    assert result.incomes == sum(item.amount for item in result.income_lines)
    assert result.need == result.riksnorm + result.costs
    assert result.proposed_amount == max(0, result.need - result.incomes)


def test_full_household_worked_by_hand():
    """Couple, three children, one other adult, register housing allowance, all rules at once.

    Household of 6 (couple + 3 children + 1 other adult): 2 640 × 5/6 = 2 200 (exact).
    Children: age 0 with lunch 2 560, age 8 3 820, age 19 5 000.
    Salary 10 001 at month 12: 25 % = 2 500.25 → 2 500.
    Child 2: 6 000 − 4 933; child 3: 59 200 − 58 000 = 1 200 left, so 2 000 − 1 200 = 800.
    """
    result = _full_household()
    assert result.riksnorm == 7100 + 2560 + 3820 + 5000 + 2200
    assert result.costs == 9800 + 450 + 300 + 1200
    assert result.incomes == (
        (10001 - 2500) + 1850 + 3750 + 730 + 250 + (6000 - 4933) + (2000 - 1200)
    )
    assert result.proposed_amount == (7100 + 2560 + 3820 + 5000 + 2200) + (
        9800 + 450 + 300 + 1200
    ) - ((10001 - 2500) + 1850 + 3750 + 730 + 250 + (6000 - 4933) + (2000 - 1200))


def test_as_dict_is_json_serialisable_with_the_documented_keys():
    """as_dict has exactly the Calculation fields plus 'lines', and survives json.dumps."""
    data = _full_household().as_dict()
    assert set(data) == {
        "ruleset_version",
        "ruleset_source",
        "period",
        "household",
        "riksnorm",
        "riksnorm_lines",
        "costs",
        "cost_lines",
        "incomes",
        "income_lines",
        "need",
        "proposed_amount",
        "lines",
    }
    assert json.loads(json.dumps(data)) == data
    assert data["lines"] == {
        "riksnorm": data["riksnorm_lines"],
        "costs": data["cost_lines"],
        "incomes": data["income_lines"],
    }
    assert set(data["income_lines"][0]) == {"code", "label", "amount", "origin", "basis"}
    assert set(data["household"][0]) == {"role", "index", "age", "category"}


def test_as_dict_contains_no_personnummer_or_name():
    """No identity leaves the calculation: not the 12- or 10-digit number, not the name."""
    app = application(
        co_applicant=adult(1987, serial="986", name="Testperson Två"),
        children=[child(8)],
        other_adults=[adult(1960, serial="990", name="Testperson Tre")],
    )
    text = json.dumps(calculate_bistand(application=app).as_dict(), ensure_ascii=False)
    people = [app["applicant"], app["co_applicant"], *app["children"], *app["other_adults"]]
    for person in people:
        number = person["personnummer"]
        assert number not in text
        assert number[2:] not in text
        assert f"{number[:8]}-{number[8:]}" not in text
        assert f"{number[2:8]}-{number[8:]}" not in text
        assert number[8:] not in text  # serial + check digit
        if "name" in person:
            assert person["name"] not in text


def test_origins_are_from_the_documented_set():
    """Every line's origin is norm, applicant, register or robot."""
    result = _full_household()
    lines = [*result.riksnorm_lines, *result.cost_lines, *result.income_lines]
    assert {item.origin for item in lines} == {"norm", "applicant", "register", "robot"}
    assert {item.origin for item in result.riksnorm_lines} == {"norm"}


def test_calculation_is_immutable():
    """A computed proposal cannot be altered in place."""
    result = calculate_bistand(application=application())
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.proposed_amount = 0  # type: ignore[misc]


def test_same_application_gives_the_same_result():
    """The result does not depend on the day it is computed (ages follow the period)."""
    assert _full_household() == _full_household()
