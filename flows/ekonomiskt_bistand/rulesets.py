"""Rule sets for the ekonomiskt bistånd calculation, versioned by the date they take effect.

The figures are data, not code: a case is computed with the rule set in force on the first
day of the month it concerns, and the calculation records the version it used so that a
signed decision stays bound to the rules it was based on. When the government amends the
riksnorm (Socialtjänstförordning 2025:468 12 kap. 2 §), add a new ``Ruleset`` constant and
append it to ``RULESETS``; never edit a published one, because decisions already point at it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

RULESET_PERIOD_FORMAT = "RULESET_PERIOD_FORMAT"
RULESET_PERIOD_BEFORE_FIRST = "RULESET_PERIOD_BEFORE_FIRST"
RULESET_NO_CHILD_BAND = "RULESET_NO_CHILD_BAND"
RULESET_HOUSEHOLD_SIZE = "RULESET_HOUSEHOLD_SIZE"

_PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


class RulesetError(ValueError):
    """A rule-set lookup that cannot be answered; ``code`` is one of the ``RULESET_*`` names."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ChildBand:
    """One age band of the riksnorm's personal costs for a child living at home.

    ``lunch_outside_home`` is the amount for a child who eats lunch outside the home five
    days a week, or ``None`` where the table has "–": for those ages lunch does not change
    the amount.
    """

    min_age: int
    max_age: int
    standard: int
    lunch_outside_home: int | None

    @property
    def label(self) -> str:
        """Return the band as written in the table, e.g. ``"7–10 år"`` or ``"0 år"``."""
        if self.min_age == self.max_age:
            return f"{self.min_age} år"
        return f"{self.min_age}–{self.max_age} år"


@dataclass(frozen=True)
class Ruleset:
    """The riksnorm and the income rules in force from ``effective_from``.

    Amounts are whole kronor per month unless named otherwise.
    """

    version: str
    effective_from: date
    source: str
    norm_citation: str
    child_bands: tuple[ChildBand, ...]
    single_adult: int
    couple: int
    household_common: tuple[int, ...]
    household_common_step_beyond_table: int
    child_allowance_per_child: int
    price_base_amount: int
    price_base_amount_source: str
    work_income_disregard_percent: int
    work_income_disregard_after_months: int
    work_income_disregard_duration_months: int


RIKSNORM_2026 = Ruleset(
    version="riksnorm-2026",
    effective_from=date(2026, 1, 1),
    source="SoF 2025:468 12 kap. 2 § i lydelse enligt SFS 2025:1046",
    norm_citation="SoF 2025:468 12 kap. 2 §",
    child_bands=(
        ChildBand(min_age=0, max_age=0, standard=2740, lunch_outside_home=2560),
        ChildBand(min_age=1, max_age=2, standard=3060, lunch_outside_home=2800),
        ChildBand(min_age=3, max_age=3, standard=2720, lunch_outside_home=2500),
        ChildBand(min_age=4, max_age=6, standard=3060, lunch_outside_home=2720),
        ChildBand(min_age=7, max_age=10, standard=3820, lunch_outside_home=None),
        ChildBand(min_age=11, max_age=14, standard=4390, lunch_outside_home=None),
        ChildBand(min_age=15, max_age=18, standard=4960, lunch_outside_home=None),
        ChildBand(min_age=19, max_age=20, standard=5000, lunch_outside_home=None),
    ),
    single_adult=3940,
    couple=7100,
    # Household sizes 1..7; each person beyond 7 adds the 6 -> 7 step.
    household_common=(1280, 1410, 1790, 2030, 2330, 2640, 2830),
    household_common_step_beyond_table=190,
    child_allowance_per_child=1250,
    # Förordning (2025:872) om prisbasbelopp och förhöjt prisbasbelopp för år 2026, 1 §:
    # "Prisbasbeloppet ... ska vara 59 200 kronor ... för år 2026" (text as published at
    # laglio.se/lagar/sfs-2025-872 from Riksdagens öppna data; basbelopp.se agrees).
    price_base_amount=59200,
    price_base_amount_source="Förordning (2025:872) om prisbasbelopp för år 2026, 1 §",
    # Jobbstimulans: 25 % of income from work is not counted once the person has had
    # assistance six months in a row, and the rule then applies for two years
    # (SoL 2025:400 12 kap. 8 §; earlier SoL 2001:453 4 kap. 1 b §, prop. 2012/13:94).
    work_income_disregard_percent=25,
    work_income_disregard_after_months=6,
    work_income_disregard_duration_months=24,
)

# 2027: add RIKSNORM_2027 (effective_from=date(2027, 1, 1)) here once the amendment of
# SoF 2025:468 12 kap. 2 § and the prisbasbelopp for 2027 are published in SFS, and append
# it below. Do not enter estimated figures: a decision must rest on the published table.

RULESETS: tuple[Ruleset, ...] = (RIKSNORM_2026,)


def period_first_day(period: str) -> date:
    """Return the first day of a ``YYYY-MM`` period, the day that decides the rule set."""
    match = _PERIOD.fullmatch(period) if isinstance(period, str) else None
    if not match:
        raise RulesetError(RULESET_PERIOD_FORMAT, "The period must be written YYYY-MM.")
    return date(int(match.group(1)), int(match.group(2)), 1)


def ruleset_for(period: str, *, rulesets: Sequence[Ruleset] | None = None) -> Ruleset:
    """Return the latest rule set whose ``effective_from`` is on or before the period start.

    ``rulesets`` defaults to the registry ``RULESETS``; tests pass their own sequence to
    exercise the choice between versions.
    """
    first_day = period_first_day(period)
    candidates = list(RULESETS if rulesets is None else rulesets)
    in_force = [r for r in candidates if r.effective_from <= first_day]
    if not in_force:
        earliest = min((r.effective_from for r in candidates), default=None)
        raise RulesetError(
            RULESET_PERIOD_BEFORE_FIRST,
            "No rule set covers the period; the earliest rule set takes effect "
            f"{earliest.isoformat() if earliest else '(none registered)'}.",
        )
    return max(in_force, key=lambda r: r.effective_from)


def child_band(*, ruleset: Ruleset, age: int) -> ChildBand:
    """Return the age band that covers ``age``."""
    for band in ruleset.child_bands:
        if band.min_age <= age <= band.max_age:
            return band
    raise RulesetError(
        RULESET_NO_CHILD_BAND, "The riksnorm has personal costs for children aged 0–20 only."
    )


def child_personal_cost(*, ruleset: Ruleset, age: int, lunch_outside_home: bool) -> int:
    """Return a child's personal cost; lunch outside home counts only where the table says so."""
    band = child_band(ruleset=ruleset, age=age)
    if lunch_outside_home and band.lunch_outside_home is not None:
        return band.lunch_outside_home
    return band.standard


def household_common_cost(*, ruleset: Ruleset, size: int) -> int:
    """Return the household-common costs for ``size`` persons.

    The table stops at seven persons; each further person adds the step from six to
    seven (SoF 2025:468 12 kap. 2 §; Konsumentverket computes larger households the
    same way).
    """
    if size < 1:
        raise RulesetError(RULESET_HOUSEHOLD_SIZE, "A household has at least one person.")
    table = ruleset.household_common
    if size <= len(table):
        return table[size - 1]
    return table[-1] + (size - len(table)) * ruleset.household_common_step_beyond_table
