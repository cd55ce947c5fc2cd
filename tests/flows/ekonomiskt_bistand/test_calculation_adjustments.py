"""The caseworker's line changes at decision time (apply_adjustments), worked by hand.

The base case is the first demo application without register data, period March 2026:

    riksnorm  3 940 (single adult) + 1 280 (household of one)        =  5 220
    costs     6 450 rent + 320 electricity + 145 insurance + 200 medical =  7 115
    need      5 220 + 7 115                                           = 12 335
    incomes   2 400 housing allowance + 6 200 activity support        =  8 600
    proposed  12 335 − 8 600                                          =  3 735
"""

import copy

import pytest

from flows.ekonomiskt_bistand.calculation import (
    CALC_ADJUSTMENT_AMOUNT_INVALID,
    CALC_ADJUSTMENT_DUPLICATE,
    CALC_ADJUSTMENT_MALFORMED,
    CALC_ADJUSTMENT_NORM_FIXED,
    CALC_ADJUSTMENT_NOT_ADJUSTABLE,
    CALC_ADJUSTMENT_REASON_MISSING,
    CALC_ADJUSTMENT_UNCHANGED,
    CALC_ADJUSTMENT_UNKNOWN_LINE,
    ORIGIN_CASEWORKER,
    CalculationError,
    adjustable_lines,
    apply_adjustments,
    calculate_bistand,
)
from tests.conftest import demo_application
from tests.flows.ekonomiskt_bistand.test_calculation import adult, child

RENT = {"code": "cost.rent", "decided": 5900, "reason": "Hyran överstiger skälig nivå."}


@pytest.fixture
def calc() -> dict:
    return calculate_bistand(application=demo_application()).as_dict()


def _line(calculation: dict, code: str) -> dict:
    lines = calculation["riksnorm_lines"] + calculation["cost_lines"] + calculation["income_lines"]
    return next(line for line in lines if line["code"] == code)


def _refused(calculation: dict, adjustments, code: str) -> None:
    before = copy.deepcopy(calculation)
    with pytest.raises(CalculationError) as exc:
        apply_adjustments(calculation=calculation, adjustments=adjustments)
    assert exc.value.code == code
    assert calculation == before


def test_base_case_figures(calc):
    """The hand-worked base figures hold before any change."""
    assert (calc["riksnorm"], calc["costs"], calc["need"]) == (5220, 7115, 12335)
    assert (calc["incomes"], calc["proposed_amount"]) == (8600, 3735)


def test_lowered_rent_lowers_the_amount_by_the_difference(calc):
    """Rent 6 450 → 5 900: costs 6 565, need 11 785, amount 11 785 − 8 600 = 3 185."""
    result = apply_adjustments(calculation=calc, adjustments=[RENT])
    assert (result["costs"], result["need"], result["incomes"]) == (6565, 11785, 8600)
    assert result["proposed_amount"] == 3185
    assert result["riksnorm"] == 5220


def test_changed_line_names_the_caseworker_and_the_reason(calc):
    """The line keeps code and label, takes the decided amount, origin caseworker, and a basis
    that keeps the rule and adds the change and the reason."""
    rent = _line(apply_adjustments(calculation=calc, adjustments=[RENT]), "cost.rent")
    assert rent["label"] == "Hyra" and rent["amount"] == 5900
    assert rent["origin"] == ORIGIN_CASEWORKER
    assert rent["basis"].startswith("SoL 2025:400 12 kap. 7 §, boende")
    assert rent["basis"].endswith(
        "ändrat av beslutsfattaren från 6 450 kr: Hyran överstiger skälig nivå."
    )


def test_result_lists_the_changes_in_stored_form(calc):
    """Each change is stored with label, proposed and decided amount, trimmed reason and
    direction; a lowered cost goes against the applicant."""
    result = apply_adjustments(
        calculation=calc, adjustments=[{**RENT, "reason": "  Skälig hyra.  "}]
    )
    assert result["adjustments"] == [
        {
            "code": "cost.rent",
            "label": "Hyra",
            "proposed": 6450,
            "decided": 5900,
            "reason": "Skälig hyra.",
            "favours_applicant": False,
        }
    ]


def test_totals_are_exact_sums_of_the_lines(calc):
    """Several changes: each total is the plain sum of its lines, and the grouped copy agrees.

    Electricity 320 → 0 and housing allowance 2 400 → 2 000:
    costs 7 115 − 320 = 6 795, incomes 8 600 − 400 = 8 200,
    amount 5 220 + 6 795 − 8 200 = 3 815.
    """
    result = apply_adjustments(
        calculation=calc,
        adjustments=[
            {"code": "income.housing_allowance", "decided": 2000, "reason": "Nytt beslut från FK."},
            {"code": "cost.electricity", "decided": 0, "reason": "Ingår i hyran."},
        ],
    )
    assert result["costs"] == sum(line["amount"] for line in result["cost_lines"]) == 6795
    assert result["incomes"] == sum(line["amount"] for line in result["income_lines"]) == 8200
    assert result["proposed_amount"] == 3815
    assert result["lines"]["costs"] == result["cost_lines"]
    assert result["lines"]["incomes"] == result["income_lines"]
    # Listed in calculation order (costs before incomes), whatever order they came in.
    assert [c["code"] for c in result["adjustments"]] == [
        "cost.electricity",
        "income.housing_allowance",
    ]
    assert [c["favours_applicant"] for c in result["adjustments"]] == [False, True]


def test_raised_cost_favours_the_applicant(calc):
    """Electricity 320 → 400 raises the amount by 80 to 3 815."""
    result = apply_adjustments(
        calculation=calc,
        adjustments=[{"code": "cost.electricity", "decided": 400, "reason": "Faktura visar 400."}],
    )
    assert result["proposed_amount"] == 3815
    assert result["adjustments"][0]["favours_applicant"] is True


def test_amount_never_goes_below_zero(calc):
    """Activity support 6 200 → 20 000: incomes 22 400 exceed the need 12 335, amount 0."""
    result = apply_adjustments(
        calculation=calc,
        adjustments=[
            {"code": "income.activity_support", "decided": 20000, "reason": "Enligt beslut."}
        ],
    )
    assert (result["incomes"], result["need"], result["proposed_amount"]) == (22400, 12335, 0)


def test_the_input_is_not_modified(calc):
    """A new calculation is returned; the material's stays as it was."""
    before = copy.deepcopy(calc)
    apply_adjustments(calculation=calc, adjustments=[RENT])
    assert calc == before


def test_stored_changes_go_back_in_unchanged(calc):
    """Applying the stored form again gives the same changes and amount (the resume re-check)."""
    first = apply_adjustments(calculation=calc, adjustments=[RENT])
    again = apply_adjustments(calculation=calc, adjustments=first["adjustments"])
    assert again["adjustments"] == first["adjustments"]
    assert again["proposed_amount"] == first["proposed_amount"]


def test_no_changes_leave_the_figures(calc):
    """An empty list gives the same figures and no changes."""
    result = apply_adjustments(calculation=calc, adjustments=[])
    assert result["proposed_amount"] == 3735 and result["adjustments"] == []


# --- jobbstimulans follows a changed salary ---------------------------------------------


def _working_application(salary: int) -> dict:
    """Single adult, rent 5 000, net salary, month 7 on assistance (jobbstimulans applies)."""
    return {
        "process": "ekonomiskt-bistand",
        "period": "2026-03",
        "applicant": adult(),
        "children": [],
        "months_on_assistance": 7,
        "costs": {"rent": 5000},
        "incomes": {"salary_net": salary},
    }


def test_changed_salary_recomputes_its_jobbstimulans():
    """Salary 8 000 → 6 002: disregard 25 % = 1 500.5, rounded half up to 1 501.

    Before: need 5 220 + 5 000 = 10 220, incomes 8 000 − 2 000 = 6 000, amount 4 220.
    After:  incomes 6 002 − 1 501 = 4 501, amount 10 220 − 4 501 = 5 719.
    """
    calc = calculate_bistand(application=_working_application(8000)).as_dict()
    assert calc["proposed_amount"] == 4220
    result = apply_adjustments(
        calculation=calc,
        adjustments=[{"code": "income.salary_net", "decided": 6002, "reason": "Lönespec mars."}],
    )
    disregard = _line(result, "income.work_income_disregard")
    assert disregard["amount"] == -1501
    assert "25 % av 6 002 kr" in disregard["basis"]
    assert (result["incomes"], result["proposed_amount"]) == (4501, 5719)
    # Only the salary is the caseworker's change; the disregard follows from it by law.
    assert [c["code"] for c in result["adjustments"]] == ["income.salary_net"]


def test_adjustable_lines_are_costs_and_incomes_only():
    """Riksnorm, the robot's disregards and a child's work income are not offered."""
    app = _working_application(8000)
    app["children"] = [child(16, work_income=3000)]
    calc = calculate_bistand(application=app).as_dict()
    codes = [line["code"] for line in adjustable_lines(calculation=calc)]
    assert codes == ["cost.rent", "income.salary_net"]


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("adjustment", "code"),
    [
        ({"code": "cost.nothing", "decided": 1, "reason": "x"}, CALC_ADJUSTMENT_UNKNOWN_LINE),
        (
            {"code": "riksnorm.single_adult", "decided": 3000, "reason": "x"},
            CALC_ADJUSTMENT_NORM_FIXED,
        ),
        (
            {"code": "riksnorm.household_common", "decided": 1000, "reason": "x"},
            CALC_ADJUSTMENT_NORM_FIXED,
        ),
        ({**RENT, "decided": -1}, CALC_ADJUSTMENT_AMOUNT_INVALID),
        ({**RENT, "decided": 5900.0}, CALC_ADJUSTMENT_AMOUNT_INVALID),
        ({**RENT, "decided": 5900.5}, CALC_ADJUSTMENT_AMOUNT_INVALID),
        ({**RENT, "decided": "5900"}, CALC_ADJUSTMENT_AMOUNT_INVALID),
        ({**RENT, "decided": True}, CALC_ADJUSTMENT_AMOUNT_INVALID),
        ({**RENT, "decided": 6450}, CALC_ADJUSTMENT_UNCHANGED),
        ({**RENT, "reason": ""}, CALC_ADJUSTMENT_REASON_MISSING),
        ({**RENT, "reason": "   "}, CALC_ADJUSTMENT_REASON_MISSING),
        ({**RENT, "reason": None}, CALC_ADJUSTMENT_REASON_MISSING),
        ({"code": "cost.rent", "decided": 5900}, CALC_ADJUSTMENT_MALFORMED),
        ({**RENT, "origin": "applicant"}, CALC_ADJUSTMENT_MALFORMED),
        ({**RENT, "proposed": 7000}, CALC_ADJUSTMENT_MALFORMED),
        ({**RENT, "label": "Bostad"}, CALC_ADJUSTMENT_MALFORMED),
        ({**RENT, "favours_applicant": True}, CALC_ADJUSTMENT_MALFORMED),
        ("cost.rent", CALC_ADJUSTMENT_MALFORMED),
    ],
    ids=[
        "unknown-line",
        "norm-adult",
        "norm-household",
        "negative",
        "float",
        "fraction",
        "string",
        "bool",
        "unchanged",
        "no-reason",
        "blank-reason",
        "null-reason",
        "missing-key",
        "unknown-key",
        "wrong-proposed",
        "wrong-label",
        "wrong-direction",
        "not-a-dict",
    ],
)
def test_refused_adjustments(calc, adjustment, code):
    """Each kind of unusable change is refused with its own code; nothing is changed."""
    _refused(calc, [adjustment], code)


def test_the_same_line_twice_is_refused(calc):
    """One line, one change."""
    _refused(calc, [RENT, {**RENT, "decided": 5000}], CALC_ADJUSTMENT_DUPLICATE)


def test_robot_disregard_and_child_income_are_refused():
    """The jobbstimulans and a child's work income (yearly ceiling) cannot be changed."""
    app = _working_application(8000)
    app["children"] = [child(16, work_income=3000)]
    calc = calculate_bistand(application=app).as_dict()
    for code in (
        "income.work_income_disregard",
        "income.child_work.1",
        "income.child_work_disregard.1",
    ):
        _refused(
            calc, [{"code": code, "decided": 0, "reason": "x"}], CALC_ADJUSTMENT_NOT_ADJUSTABLE
        )
