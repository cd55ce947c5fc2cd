"""The ekonomiskt bistånd calculation: the robot's proposal, which a named caseworker decides on.

Legal frame: Socialtjänstlag (2025:400) 12 kap. and Socialtjänstförordning (2025:468)
12 kap. For the month applied for,

    proposed amount = max(0, riksnorm + reasonable costs outside the norm − counted incomes)

in whole kronor. Every figure is kept as a ``Line`` with its origin (``norm``, ``applicant``,
``register`` or ``robot``) and a short Swedish basis, so that the human who signs can see
where each krona comes from, and so that the material can be printed in readable form
(OSL 4 kap. 3 §). The result holds no personnummer and no names: household members are
referred to by role and a 1-based index in application order (``children[0]`` is child 1).

Input: application JSON version 1
---------------------------------
``process``, ``external_ref``, ``period`` ("YYYY-MM"), ``applicant``, ``co_applicant``,
``children``, ``months_on_assistance``, ``costs``, ``incomes`` and ``message`` as in the API
schema; it is validated before it reaches this module (amounts are non-negative ints).
Version-1 extensions read here, all optional:

* ``co_applicant``: ``{"personnummer", "name"}`` or null. Present means the applicant is one
  of a cohabiting couple (makar/sambor), who get the couple amount together.
* ``other_adults``: ``[{"personnummer", "name"}]``, adults who share the dwelling and the
  household but are not part of the applicant's couple (an adult sibling, a friend). They
  are separate cases with their own norm; here they only count towards the household size.
* ``children[].lives_at_home`` (default true). A child who does not live at home is listed
  in ``household`` but gets no norm line, does not count towards the household size, and
  its work income is not a household income. Costs for a child staying during contact
  time (umgänge) are assessed per day by the caseworker (SOSFS 2013:1) and not computed.
* ``children[].work_income``: the child's own net income from work in the month.
* ``children[].work_income_year_to_date``: the child's work income earlier in the same
  calendar year (January up to the month before the period), when known.

Interpretations
---------------
Shared household (delat hushåll). An adult who shares a household without being part of a
couple gets the single-adult personal amount plus an equal share of the household-common
costs of the whole household (SoF 2025:468 12 kap. 2 §; Socialstyrelsen's
worked example "1 710 kr ÷ 5 + 2 950 kr" in "Oförändrade belopp i riksnormen för 2014",
19 Nov 2013). The applicant's household is charged the share for its own members: the
common cost for the total size (own members + other adults) × own members / total size.

Child's own work income (12 kap. 9 §). A child's work income is counted only to the extent
it exceeds one prisbasbelopp per calendar year (prop. 2012/13:94: "ett prisbasbelopp per
kalenderår"). With ``work_income_year_to_date`` the yearly rule is applied exactly: what
is left of the prisbasbelopp after the earlier months is disregarded this month. Without
it the robot cannot know the year so far and uses a monthly ceiling of prisbasbelopp / 12
rounded DOWN (59 200 / 12 → 4 933 kr in 2026), so that twelve months never disregard more
than one prisbasbelopp; the caseworker can supply the year-to-date figure for a summer job.
The prisbasbelopp is the one in the rule set for the period.

Work income disregard, jobbstimulans (12 kap. 8 §). ``months_on_assistance`` is read as the
number of consecutive months with assistance before the month applied for. 25 % of
``salary_net`` is disregarded when it is 6..29 inclusive: at 6 the person "has had
assistance six months in a row", and the rule then applies for two years, the 24 months
numbered 6 to 29. At 30 the window has closed; a new six-month run is needed before it
applies again (prop. 2012/13:94), which a single counter cannot show, so that is left to
the caseworker. The disregard is a separate negative income line with origin ``robot``.

Register incomes. ``register_incomes`` maps ``incomes`` keys (not ``other``) to what a
national register reported for the control month. A present key replaces the declared
amount; the line's origin is ``register`` and the line is kept even when the register
reports 0, so the replacement stays visible. Deviation flags are raised elsewhere.

Costs are taken as declared; local caps (e.g. on rent) and reasonableness are the
caseworker's assessment.

Changes at decision (apply_adjustments). The caseworker who decides may change single cost
and income lines, each with a reason; the decided amount then follows from the changed
lines by the same formula. The riksnorm lines are fixed by law and the robot's disregard
lines follow from other lines, so neither can be changed; a changed salary recomputes its
jobbstimulans. A child's work income cannot be changed at decision time: its yearly
ceiling needs the income earlier in the year, which only a supplement can bring.

Rounding. Every amount is whole kronor. A share or percentage is rounded half up to whole
kronor on the line where it arises (the household-common share, the 25 % disregard); the
monthly ceiling for a child's income is a limit and is rounded down as explained above.
Totals are plain sums of their lines, so the lines always add up to the totals exactly.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from flows.ekonomiskt_bistand.rulesets import (
    RULESETS,
    Ruleset,
    child_band,
    child_personal_cost,
    household_common_cost,
    period_first_day,
    ruleset_for,
)
from municipality.personnummer import PersonnummerError, parse_personnummer

CALC_PERSONNUMMER_INVALID = "CALC_PERSONNUMMER_INVALID"
CALC_CHILD_AGE_OUT_OF_RANGE = "CALC_CHILD_AGE_OUT_OF_RANGE"
CALC_REGISTER_INCOME_UNKNOWN = "CALC_REGISTER_INCOME_UNKNOWN"
CALC_REGISTER_INCOME_INVALID = "CALC_REGISTER_INCOME_INVALID"
CALC_RULESET_NOT_IN_FORCE = "CALC_RULESET_NOT_IN_FORCE"
CALC_ADJUSTMENT_MALFORMED = "CALC_ADJUSTMENT_MALFORMED"
CALC_ADJUSTMENT_UNKNOWN_LINE = "CALC_ADJUSTMENT_UNKNOWN_LINE"
CALC_ADJUSTMENT_NORM_FIXED = "CALC_ADJUSTMENT_NORM_FIXED"
CALC_ADJUSTMENT_NOT_ADJUSTABLE = "CALC_ADJUSTMENT_NOT_ADJUSTABLE"
CALC_ADJUSTMENT_AMOUNT_INVALID = "CALC_ADJUSTMENT_AMOUNT_INVALID"
CALC_ADJUSTMENT_UNCHANGED = "CALC_ADJUSTMENT_UNCHANGED"
CALC_ADJUSTMENT_REASON_MISSING = "CALC_ADJUSTMENT_REASON_MISSING"
CALC_ADJUSTMENT_DUPLICATE = "CALC_ADJUSTMENT_DUPLICATE"

ORIGIN_NORM = "norm"
ORIGIN_APPLICANT = "applicant"
ORIGIN_REGISTER = "register"
ORIGIN_ROBOT = "robot"
# A line the deciding caseworker changed (apply_adjustments).
ORIGIN_CASEWORKER = "caseworker"

ROLE_APPLICANT = "applicant"
ROLE_CO_APPLICANT = "co_applicant"
ROLE_CHILD = "child"
ROLE_OTHER_ADULT = "other_adult"

LAW = "SoL 2025:400 12 kap."
COSTS_CITATION = "SoL 2025:400 12 kap. 7 §"
WORK_DISREGARD_CITATION = "SoL 2025:400 12 kap. 8 §"
CHILD_INCOME_CITATION = "SoL 2025:400 12 kap. 9 §"

# key -> (label, what the cost is for, as said in the basis)
COST_ITEMS: dict[str, tuple[str, str]] = {
    "rent": ("Hyra", "boende"),
    "electricity": ("Hushållsel", "hushållsel"),
    "home_insurance": ("Hemförsäkring", "hemförsäkring"),
    "work_travel": ("Arbetsresor", "resor till och från arbetet"),
    "union_fees": ("Fackavgift och a-kassa", "fackförening och arbetslöshetskassa"),
    "childcare": ("Barnomsorgsavgift", "barnomsorg, efter prövning"),
    "medical": ("Läkarvård och medicin", "hälso- och sjukvård och medicin, efter prövning"),
}
INCOME_LABELS: dict[str, str] = {
    "salary_net": "Lön (netto)",
    "housing_allowance": "Bostadsbidrag",
    "child_allowance": "Barnbidrag",
    "large_family_supplement": "Flerbarnstillägg",
    "maintenance_support": "Underhållsstöd",
    "sickness_benefit": "Sjukpenning",
    "parental_benefit": "Föräldrapenning",
    "activity_support": "Aktivitetsstöd",
    "unemployment_benefit": "Arbetslöshetsersättning",
    "pension": "Pension",
    "student_aid": "Studiemedel",
}
WORK_INCOME_KEY = "salary_net"


class CalculationError(ValueError):
    """An application that cannot be computed; ``code`` is one of the ``CALC_*`` names."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Line:
    """One figure of the calculation, with where it came from and the rule behind it."""

    code: str
    label: str
    amount: int
    origin: str
    basis: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "amount": self.amount,
            "origin": self.origin,
            "basis": self.basis,
        }


@dataclass(frozen=True)
class Member:
    """A household member as the calculation saw them: role, index and age, no identity."""

    role: str
    index: int
    age: int
    category: str

    def as_dict(self) -> dict[str, Any]:
        return {"role": self.role, "index": self.index, "age": self.age, "category": self.category}


@dataclass(frozen=True)
class Calculation:
    """The proposal for one month, bound to the rule-set version it was computed with."""

    ruleset_version: str
    ruleset_source: str
    period: str
    household: tuple[Member, ...]
    riksnorm: int
    riksnorm_lines: tuple[Line, ...]
    costs: int
    cost_lines: tuple[Line, ...]
    incomes: int
    income_lines: tuple[Line, ...]
    need: int
    proposed_amount: int

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict; ``lines`` repeats the lines grouped for display."""
        riksnorm_lines = [line.as_dict() for line in self.riksnorm_lines]
        cost_lines = [line.as_dict() for line in self.cost_lines]
        income_lines = [line.as_dict() for line in self.income_lines]
        return {
            "ruleset_version": self.ruleset_version,
            "ruleset_source": self.ruleset_source,
            "period": self.period,
            "household": [member.as_dict() for member in self.household],
            "riksnorm": self.riksnorm,
            "riksnorm_lines": riksnorm_lines,
            "costs": self.costs,
            "cost_lines": cost_lines,
            "incomes": self.incomes,
            "income_lines": income_lines,
            "need": self.need,
            "proposed_amount": self.proposed_amount,
            "lines": {"riksnorm": riksnorm_lines, "costs": cost_lines, "incomes": income_lines},
        }


def calculate_bistand(
    *,
    application: dict,
    register_incomes: dict[str, int] | None = None,
    register_child_work_incomes: dict[str, int] | None = None,
    ruleset: Ruleset | None = None,
) -> Calculation:
    """Compute the proposed ekonomiskt bistånd for the application's period.

    ``ruleset`` pins a version (e.g. to recompute a signed decision); by default the
    version in force for the period is chosen. Raises :class:`CalculationError`, or
    :class:`~flows.ekonomiskt_bistand.rulesets.RulesetError` for a period no rule set covers.
    """
    period = application["period"]
    first_day = period_first_day(period)
    if ruleset is None:
        ruleset = ruleset_for(period)
    elif ruleset.effective_from > first_day:
        raise CalculationError(
            CALC_RULESET_NOT_IN_FORCE,
            f"Rule set {ruleset.version} takes effect {ruleset.effective_from.isoformat()}, "
            f"after the period {period}.",
        )
    register = _checked_register_incomes(register_incomes)
    # Ages and 10-digit centuries are judged at the end of the period, never "today", so
    # the same application always gives the same result.
    period_end = date(
        first_day.year, first_day.month, calendar.monthrange(first_day.year, first_day.month)[1]
    )

    household, riksnorm_lines = _riksnorm(
        application=application, ruleset=ruleset, period=period, period_end=period_end
    )
    cost_lines = _cost_lines(costs=application.get("costs") or {})
    income_lines = _income_lines(
        application=application,
        register=register,
        register_child_work=register_child_work_incomes or {},
        ruleset=ruleset,
    )

    riksnorm = sum(line.amount for line in riksnorm_lines)
    costs = sum(line.amount for line in cost_lines)
    incomes = sum(line.amount for line in income_lines)
    need = riksnorm + costs
    return Calculation(
        ruleset_version=ruleset.version,
        ruleset_source=ruleset.source,
        period=period,
        household=household,
        riksnorm=riksnorm,
        riksnorm_lines=riksnorm_lines,
        costs=costs,
        cost_lines=cost_lines,
        incomes=incomes,
        income_lines=income_lines,
        need=need,
        proposed_amount=max(0, need - incomes),
    )


def _riksnorm(
    *, application: dict, ruleset: Ruleset, period: str, period_end: date
) -> tuple[tuple[Member, ...], tuple[Line, ...]]:
    """Return the household as seen by the norm and the riksnorm lines."""
    cite = ruleset.norm_citation
    co_applicant = application.get("co_applicant")
    other_adults = application.get("other_adults") or []
    children = application.get("children") or []
    shared = bool(other_adults)
    members: list[Member] = []
    lines: list[Line] = []

    applicant_age = _age(
        person=application["applicant"], role=ROLE_APPLICANT, index=1, period_end=period_end
    )
    if co_applicant:
        co_age = _age(person=co_applicant, role=ROLE_CO_APPLICANT, index=1, period_end=period_end)
        members.append(Member(ROLE_APPLICANT, 1, applicant_age, "sambo/make"))
        members.append(Member(ROLE_CO_APPLICANT, 1, co_age, "sambo/make"))
        lines.append(
            Line(
                code="riksnorm.couple",
                label="Riksnorm: sambor/makar",
                amount=ruleset.couple,
                origin=ORIGIN_NORM,
                basis=f"{cite}, sammanlevande makar eller sambor",
            )
        )
        own_size = 2
    else:
        members.append(Member(ROLE_APPLICANT, 1, applicant_age, "ensamstående vuxen"))
        lines.append(
            Line(
                code="riksnorm.single_adult",
                label="Riksnorm: ensamstående",
                amount=ruleset.single_adult,
                origin=ORIGIN_NORM,
                basis=f"{cite}, ensamstående" + (" i delat hushåll" if shared else ""),
            )
        )
        own_size = 1

    min_age = ruleset.child_bands[0].min_age
    max_age = ruleset.child_bands[-1].max_age
    for index, child in enumerate(children, start=1):
        age = _age(person=child, role=ROLE_CHILD, index=index, period_end=period_end)
        if not min_age <= age <= max_age:
            # Younger than 0 means not yet born in the period; 21 or older is an adult
            # with a case of their own, not a child of this household.
            raise CalculationError(
                CALC_CHILD_AGE_OUT_OF_RANGE,
                f"Child {index} is {age} years old during {period}; a child in the "
                f"household must be {min_age}–{max_age}.",
            )
        if not child.get("lives_at_home", True):
            members.append(Member(ROLE_CHILD, index, age, "barn, ej hemmavarande"))
            continue
        own_size += 1
        band = child_band(ruleset=ruleset, age=age)
        lunch = bool(child.get("lunch_outside_home", False))
        lunch_counts = lunch and band.lunch_outside_home is not None
        category = f"barn {band.label}" + (", lunch utanför hemmet" if lunch_counts else "")
        basis = f"{cite}, barn {index}, {age} år under {period}"
        if lunch_counts:
            basis += ", äter lunch utanför hemmet 5 dagar/vecka"
        elif lunch:
            basis += f", lunch utanför hemmet ändrar inte beloppet för {band.label}"
        members.append(Member(ROLE_CHILD, index, age, category))
        lines.append(
            Line(
                code=f"riksnorm.child.{index}",
                label=f"Riksnorm: {category}",
                amount=child_personal_cost(ruleset=ruleset, age=age, lunch_outside_home=lunch),
                origin=ORIGIN_NORM,
                basis=basis,
            )
        )

    for index, adult in enumerate(other_adults, start=1):
        age = _age(person=adult, role=ROLE_OTHER_ADULT, index=index, period_end=period_end)
        members.append(Member(ROLE_OTHER_ADULT, index, age, "annan vuxen i hushållet, egen norm"))

    lines.append(
        _household_common_line(
            ruleset=ruleset,
            own_size=own_size,
            shared=shared,
            total_size=own_size + len(other_adults),
        )
    )
    return tuple(members), tuple(lines)


def _household_common_line(
    *, ruleset: Ruleset, own_size: int, total_size: int, shared: bool
) -> Line:
    """Return the household-common cost line, or the applicant household's share of it."""
    cite = ruleset.norm_citation
    total = household_common_cost(ruleset=ruleset, size=total_size)
    table_size = len(ruleset.household_common)
    if total_size > table_size:
        extra = total_size - table_size
        table_text = (
            f"{_kr(ruleset.household_common[-1])} för {table_size} personer "
            f"+ {extra} × {_kr(ruleset.household_common_step_beyond_table)}"
        )
    else:
        table_text = f"{_kr(total)} för {_persons(total_size)}"
    if not shared:
        return Line(
            code="riksnorm.household_common",
            label=f"Riksnorm: hushållsgemensamma kostnader, {_persons(total_size)}",
            amount=total,
            origin=ORIGIN_NORM,
            basis=f"{cite}, {table_text}",
        )
    return Line(
        code="riksnorm.household_common",
        label=(
            f"Riksnorm: hushållsgemensamma kostnader, andel {own_size} av {_persons(total_size)}"
        ),
        amount=_round_half_up(numerator=total * own_size, denominator=total_size),
        origin=ORIGIN_NORM,
        basis=(
            f"{cite}, delat hushåll: {table_text} = {_kr(total)}, "
            f"× {own_size}/{total_size} avrundat till hela kronor"
        ),
    )


def _cost_lines(*, costs: dict) -> tuple[Line, ...]:
    """Return one line per non-zero declared cost, each ``other`` item on its own line."""
    lines: list[Line] = []
    for key, (label, what) in COST_ITEMS.items():
        amount = int(costs.get(key) or 0)
        if amount:
            lines.append(
                Line(
                    code=f"cost.{key}",
                    label=label,
                    amount=amount,
                    origin=ORIGIN_APPLICANT,
                    basis=f"{COSTS_CITATION}, {what}; sökandes uppgift",
                )
            )
    for index, item in enumerate(costs.get("other") or [], start=1):
        amount = int(item.get("amount") or 0)
        if amount:
            lines.append(
                Line(
                    code=f"cost.other.{index}",
                    label=f"Övrig kostnad: {item.get('description', '')}".rstrip(": "),
                    amount=amount,
                    origin=ORIGIN_APPLICANT,
                    basis=f"{COSTS_CITATION}, övrig kostnad efter prövning; sökandes uppgift",
                )
            )
    return tuple(lines)


def _income_lines(
    *,
    application: dict,
    register: dict[str, int],
    register_child_work: dict[str, int],
    ruleset: Ruleset,
) -> tuple[Line, ...]:
    """Return the counted incomes, each disregard as a negative line after its income."""
    declared = application.get("incomes") or {}
    lines: list[Line] = []
    for key, label in INCOME_LABELS.items():
        declared_amount = int(declared.get(key) or 0)
        if key in register:
            amount = register[key]
            origin = ORIGIN_REGISTER
            basis = (
                f"{LAW}, hushållets inkomst; registeruppgift för kontrollmånaden "
                f"(sökande uppgav {_kr(declared_amount)})"
            )
        elif declared_amount:
            amount = declared_amount
            origin = ORIGIN_APPLICANT
            basis = f"{LAW}, hushållets inkomst; sökandes uppgift"
        else:
            continue
        lines.append(Line(f"income.{key}", label, amount, origin, basis))
        if key == WORK_INCOME_KEY:
            disregard = _work_income_disregard(
                salary=amount,
                months_on_assistance=int(application.get("months_on_assistance") or 0),
                ruleset=ruleset,
            )
            if disregard:
                lines.append(disregard)

    for index, item in enumerate(declared.get("other") or [], start=1):
        amount = int(item.get("amount") or 0)
        if amount:
            lines.append(
                Line(
                    code=f"income.other.{index}",
                    label=f"Övrig inkomst: {item.get('description', '')}".rstrip(": "),
                    amount=amount,
                    origin=ORIGIN_APPLICANT,
                    basis=f"{LAW}, hushållets inkomst; sökandes uppgift",
                )
            )

    for index, child in enumerate(application.get("children") or [], start=1):
        declared_work = int(child.get("work_income") or 0)
        # The register's figure for the child's own work replaces the declared one; it is
        # the child's income, disregarded up to the ceiling, never the household's salary.
        if child.get("personnummer") in register_child_work:
            work_income = register_child_work[child["personnummer"]]
            origin = ORIGIN_REGISTER
            basis = (
                f"{LAW}, barn {index}, inkomst av eget arbete; registeruppgift för "
                f"kontrollmånaden (sökande uppgav {_kr(declared_work)})"
            )
        else:
            work_income = declared_work
            origin = ORIGIN_APPLICANT
            basis = f"{LAW}, barn {index}, inkomst av eget arbete; sökandes uppgift"
        if not work_income or not child.get("lives_at_home", True):
            continue
        lines.append(
            Line(
                code=f"income.child_work.{index}",
                label="Barns arbetsinkomst",
                amount=work_income,
                origin=origin,
                basis=basis,
            )
        )
        lines.append(
            _child_work_income_disregard(
                index=index,
                work_income=work_income,
                year_to_date=child.get("work_income_year_to_date"),
                ruleset=ruleset,
            )
        )
    return tuple(lines)


def _work_income_disregard(
    *, salary: int, months_on_assistance: int, ruleset: Ruleset
) -> Line | None:
    """Return the jobbstimulans line (25 % of work income not counted), or None if not due."""
    first = ruleset.work_income_disregard_after_months
    last = first + ruleset.work_income_disregard_duration_months - 1
    if not salary or not first <= months_on_assistance <= last:
        return None
    percent = ruleset.work_income_disregard_percent
    amount = _round_half_up(numerator=salary * percent, denominator=100)
    return Line(
        code="income.work_income_disregard",
        label=f"Jobbstimulans: {percent} % av arbetsinkomsten räknas inte",
        amount=-amount,
        origin=ORIGIN_ROBOT,
        basis=(
            f"{WORK_DISREGARD_CITATION}, {percent} % av {_kr(salary)} avrundat till hela kronor; "
            f"månad {months_on_assistance} med bistånd (gäller månad {first}–{last})"
        ),
    )


def _child_work_income_disregard(
    *, index: int, work_income: int, year_to_date: int | None, ruleset: Ruleset
) -> Line:
    """Return the negative line for the part of a child's work income that is not counted."""
    pbb = ruleset.price_base_amount
    if year_to_date is None:
        ceiling = pbb // 12
        ceiling_text = f"månadsgräns {_kr(pbb)} / 12 = {_kr(ceiling)} (avrundat nedåt)"
    else:
        ceiling = max(0, pbb - int(year_to_date))
        ceiling_text = (
            f"kvar av prisbasbeloppet {_kr(pbb)} efter {_kr(int(year_to_date))} tidigare i år: "
            f"{_kr(ceiling)}"
        )
    disregarded = min(work_income, ceiling)
    return Line(
        code=f"income.child_work_disregard.{index}",
        label="Barns arbetsinkomst som inte räknas",
        amount=-disregarded,
        origin=ORIGIN_ROBOT,
        basis=(
            f"{CHILD_INCOME_CITATION}, barn {index}: räknas bara över ett prisbasbelopp per "
            f"kalenderår; {ceiling_text}"
        ),
    )


# Keys an adjustment may carry: the stored form goes back in unchanged, and the derived
# keys (label, proposed, favours_applicant) must then match what the line gives.
ADJUSTMENT_KEYS = frozenset({"code", "decided", "reason", "label", "proposed", "favours_applicant"})
WORK_INCOME_CODE = f"income.{WORK_INCOME_KEY}"
WORK_INCOME_DISREGARD_CODE = "income.work_income_disregard"
CHILD_WORK_INCOME_PREFIX = "income.child_work."


def adjustable_lines(*, calculation: dict) -> list[dict]:
    """Return the cost and income lines a caseworker may change when deciding, in order."""
    return [
        line
        for line in [*calculation.get("cost_lines", []), *calculation.get("income_lines", [])]
        if _not_adjustable(line) is None
    ]


def apply_adjustments(*, calculation: dict, adjustments: list[dict]) -> dict:
    """Return a new calculation with the deciding caseworker's changes to single lines.

    Each adjustment is ``{"code", "decided", "reason"}``; ``label``, ``proposed`` and
    ``favours_applicant`` may come along (the stored form goes back in unchanged) and
    must then match the line. A changed line
    keeps code and label, takes the decided amount and origin ``caseworker``, and its
    basis names the change and the reason. A changed salary recomputes its jobbstimulans
    line (12 kap. 8 §), so that the law's 25 % follows the decided salary. Totals are plain
    sums of their lines again and ``proposed_amount`` is max(0, riksnorm + costs − incomes),
    exactly as in :func:`calculate_bistand`.

    The result also carries ``adjustments``: the changes in calculation order, each as
    ``{"code", "label", "proposed", "decided", "reason", "favours_applicant"}``, where
    ``favours_applicant`` is true for a raised cost or a lowered income. The input is not
    modified. Raises :class:`CalculationError` with a ``CALC_ADJUSTMENT_*`` code.
    """
    lines = {
        line["code"]: line
        for key in ("riksnorm_lines", "cost_lines", "income_lines")
        for line in calculation.get(key, [])
    }
    changes: dict[str, dict] = {}
    for item in adjustments:
        change = _checked_adjustment(item=item, lines=lines, seen=changes)
        changes[change["code"]] = change

    def changed(line: dict) -> dict:
        change = changes.get(line["code"])
        if change is None:
            return dict(line)
        return {
            **line,
            "amount": change["decided"],
            "origin": ORIGIN_CASEWORKER,
            "basis": (
                f"{line['basis']}; ändrat av beslutsfattaren från {_kr(change['proposed'])}: "
                f"{change['reason']}"
            ),
        }

    riksnorm_lines = [dict(line) for line in calculation.get("riksnorm_lines", [])]
    cost_lines = [changed(line) for line in calculation.get("cost_lines", [])]
    income_lines = [changed(line) for line in calculation.get("income_lines", [])]
    if WORK_INCOME_CODE in changes:
        income_lines = [
            _recomputed_work_disregard(
                line=line,
                salary=changes[WORK_INCOME_CODE]["decided"],
                ruleset_version=calculation.get("ruleset_version", ""),
            )
            if line["code"] == WORK_INCOME_DISREGARD_CODE
            else line
            for line in income_lines
        ]
    riksnorm = sum(line["amount"] for line in riksnorm_lines)
    costs = sum(line["amount"] for line in cost_lines)
    incomes = sum(line["amount"] for line in income_lines)
    need = riksnorm + costs
    order = [line["code"] for line in cost_lines + income_lines]
    return {
        **calculation,
        "household": [dict(member) for member in calculation.get("household", [])],
        "riksnorm": riksnorm,
        "riksnorm_lines": riksnorm_lines,
        "costs": costs,
        "cost_lines": cost_lines,
        "incomes": incomes,
        "income_lines": income_lines,
        "need": need,
        "proposed_amount": max(0, need - incomes),
        "lines": {"riksnorm": riksnorm_lines, "costs": cost_lines, "incomes": income_lines},
        "adjustments": sorted(changes.values(), key=lambda change: order.index(change["code"])),
    }


def _not_adjustable(line: dict) -> tuple[str, str] | None:
    """Why a line cannot be changed at decision time, as (code, message); None if it can."""
    code = line["code"]
    if code.startswith("riksnorm."):
        # The norm is the amount the law sets for the household; no one decides it case by case.
        return CALC_ADJUSTMENT_NORM_FIXED, f"Line '{code}' is the riksnorm, fixed by law."
    if line.get("origin") == ORIGIN_ROBOT:
        # Disregards follow by law from another line; change that line instead.
        return CALC_ADJUSTMENT_NOT_ADJUSTABLE, f"Line '{code}' is computed by law from another."
    if code.startswith(CHILD_WORK_INCOME_PREFIX):
        # The yearly prisbasbelopp ceiling needs the year-to-date income, which only a
        # supplement brings; the calculation cannot recompute the disregard here.
        return (
            CALC_ADJUSTMENT_NOT_ADJUSTABLE,
            f"Line '{code}' has a yearly disregard; return the case for completion to change it.",
        )
    return None


def _checked_adjustment(*, item, lines: dict[str, dict], seen: dict[str, dict]) -> dict:
    """Return one adjustment in stored form, after refusing anything the rules do not allow."""
    if (
        not isinstance(item, dict)
        or not {"code", "decided", "reason"} <= item.keys()
        or item.keys() - ADJUSTMENT_KEYS
    ):
        raise CalculationError(
            CALC_ADJUSTMENT_MALFORMED,
            "An adjustment is {code, decided, reason}, optionally with its derived keys.",
        )
    code = item["code"]
    line = lines.get(code) if isinstance(code, str) else None
    if line is None:
        raise CalculationError(CALC_ADJUSTMENT_UNKNOWN_LINE, f"No line '{code}' to change.")
    if code in seen:
        raise CalculationError(CALC_ADJUSTMENT_DUPLICATE, f"Line '{code}' is changed twice.")
    refusal = _not_adjustable(line)
    if refusal is not None:
        raise CalculationError(*refusal)
    if ("label" in item and item["label"] != line["label"]) or (
        "proposed" in item and item["proposed"] != line["amount"]
    ):
        raise CalculationError(
            CALC_ADJUSTMENT_MALFORMED, f"Label or proposed amount of '{code}' is not the line's."
        )
    decided = item["decided"]
    if isinstance(decided, bool) or not isinstance(decided, int) or decided < 0:
        raise CalculationError(
            CALC_ADJUSTMENT_AMOUNT_INVALID,
            f"The decided amount of '{code}' must be a whole number of kronor, 0 or more.",
        )
    if decided == line["amount"]:
        raise CalculationError(
            CALC_ADJUSTMENT_UNCHANGED, f"The decided amount of '{code}' is the proposed one."
        )
    reason = item["reason"].strip() if isinstance(item["reason"], str) else ""
    if not reason:
        raise CalculationError(
            CALC_ADJUSTMENT_REASON_MISSING, f"The change of '{code}' needs a reason."
        )
    proposed = line["amount"]
    # A higher cost or a lower income gives the applicant more; the reverse goes against them.
    favours = decided > proposed if code.startswith("cost.") else decided < proposed
    if item.get("favours_applicant", favours) != favours:
        raise CalculationError(
            CALC_ADJUSTMENT_MALFORMED, f"The direction given for '{code}' is not the change's."
        )
    return {
        "code": code,
        "label": line["label"],
        "proposed": proposed,
        "decided": decided,
        "reason": reason,
        "favours_applicant": favours,
    }


def _recomputed_work_disregard(*, line: dict, salary: int, ruleset_version: str) -> dict:
    """Return the jobbstimulans line for the decided salary (the window was already open)."""
    ruleset = next((r for r in RULESETS if r.version == ruleset_version), None)
    if ruleset is None:
        raise CalculationError(
            CALC_ADJUSTMENT_NOT_ADJUSTABLE,
            f"Rule set {ruleset_version!r} is unknown; the jobbstimulans cannot be recomputed.",
        )
    percent = ruleset.work_income_disregard_percent
    amount = _round_half_up(numerator=salary * percent, denominator=100)
    return {
        **line,
        "amount": -amount,
        "basis": (
            f"{WORK_DISREGARD_CITATION}, {percent} % av {_kr(salary)} avrundat till hela kronor; "
            "lönen enligt beslutsfattarens ändring"
        ),
    }


def _checked_register_incomes(register_incomes: dict[str, int] | None) -> dict[str, int]:
    """Return the register incomes after refusing keys and amounts the calculation cannot use."""
    register = dict(register_incomes or {})
    for key, amount in register.items():
        if key not in INCOME_LABELS:
            raise CalculationError(
                CALC_REGISTER_INCOME_UNKNOWN,
                f"Register income '{key}' is not an income the calculation knows.",
            )
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise CalculationError(
                CALC_REGISTER_INCOME_INVALID,
                f"Register income '{key}' must be a non-negative whole number of kronor.",
            )
    return register


def _age(*, person: dict, role: str, index: int, period_end: date) -> int:
    """Return the member's age during the period; the personnummer itself goes no further."""
    try:
        personnummer = parse_personnummer(person["personnummer"], today=period_end)
    except (PersonnummerError, KeyError, TypeError) as exc:
        # The message names the member, never the number, so it is safe to log.
        raise CalculationError(
            CALC_PERSONNUMMER_INVALID,
            f"The personnummer of {role.replace('_', ' ')} {index} is missing or invalid.",
        ) from exc
    return personnummer.age_during_month(period_end.year, period_end.month)


def _round_half_up(*, numerator: int, denominator: int) -> int:
    """Return numerator / denominator rounded half up, in integers (no float drift)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _kr(amount: int) -> str:
    """Return an amount the Swedish way, e.g. ``"1 280 kr"``."""
    return f"{amount:,}".replace(",", " ") + " kr"


def _persons(count: int) -> str:
    return "1 person" if count == 1 else f"{count} personer"
