"""Rule sets for school-attendance monitoring, versioned by the date they take effect.

The thresholds are data, not code: a government inquiry (Dir. 2025:77) may change the rules,
and a municipality may tune its own screening thresholds. A month is scanned with the rule set
in force on its first day, and every flag records the version it used, so that a case stays
bound to the rules it was opened under. Never edit a published rule set: add a new constant
and append it to ``RULESETS``.

Compulsory-school age (Skollag 2010:800, as amended by SFS 2017:1115 from 1 July 2018, when
förskoleklass became compulsory):

* 7 kap. 10 §: "Skolplikten inträder höstterminen det kalenderår då barnet fyller sex år."
  With särskilda skäl the home municipality may defer the start to the autumn term of the
  year the child turns seven (uppskjuten skolplikt).
* 7 kap. 12 §: "Skolplikten upphör vid utgången av vårterminen det tionde året [...] efter det
  att eleven börjat fullgöra skolplikten" (the eleventh year in specialskolan); 13 § extends
  it one year for a pupil who has not completed the highest grade (at most until 18), 14 §
  ends it earlier for one who has met the knowledge requirements.

The text was checked against the municipal and Skolverket pages quoting it (Skolverket,
"Skolplikt och rätt till utbildning": "utgången av vårterminen det tionde året efter att
eleven börjat i skolan"); the terms are modelled as 1 August (autumn term start) and 30 June
(end of the spring term). Extensions under 13 § and early ends under 14 § are individual
decisions the register does not carry: the caseworker sees the rule and the figures and
closes such a case with that reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

RULESET_MONTH_FORMAT = "RULESET_MONTH_FORMAT"
RULESET_MONTH_BEFORE_FIRST = "RULESET_MONTH_BEFORE_FIRST"

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


class RulesetError(ValueError):
    """A rule-set lookup that cannot be answered; ``code`` is one of the ``RULESET_*`` names."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Ruleset:
    """The compulsory-school period and the absence thresholds in force from ``effective_from``.

    Percentages are of the scheduled (offered) time during the month's placements. A whole
    unexcused day is a school day on which all offered time was unexcused absence.
    """

    version: str
    effective_from: date
    source: str
    # Age rules (7 kap. 10, 12 §§).
    start_age: int
    start_month_day: tuple[int, int]  # autumn term start
    years_of_compulsory_school: int
    end_month_day: tuple[int, int]  # end of the spring term
    deferred_start_extra_years: int
    # Absence thresholds: any one of them flags the pupil.
    unexcused_percent: int
    total_absence_percent: int
    unexcused_whole_days: int
    # A run of uncovered school days between or around placements of at least this length.
    placement_gap_min_school_days: int
    # Months in which nothing is checked (summer holiday; schools report no scheduled time).
    holiday_months: tuple[int, ...]
    # Organisation numbers of municipalities begin with these digits (Skatteverket's
    # "2120" group for kommuner); a school whose principal has another number is fristående.
    municipal_principal_prefix: str = "2120"


SKOLPLIKT_2026 = Ruleset(
    version="skolplikt-2026-01",
    effective_from=date(2018, 7, 1),
    source=(
        "Skollag 2010:800 7 kap. 10, 12, 17, 20–23 §§ (lydelse enligt SFS 2017:1115); "
        "tröskelvärden för bevakning enligt nämndens riktlinje"
    ),
    start_age=6,
    start_month_day=(8, 1),
    years_of_compulsory_school=10,
    end_month_day=(6, 30),
    deferred_start_extra_years=1,
    unexcused_percent=10,
    total_absence_percent=20,
    unexcused_whole_days=3,
    placement_gap_min_school_days=5,
    holiday_months=(7,),
)

RULESETS: tuple[Ruleset, ...] = (SKOLPLIKT_2026,)


def month_parse(month: str) -> tuple[int, int]:
    """Return (year, month) for "YYYY-MM", or raise ``RULESET_MONTH_FORMAT``."""
    match = _MONTH.fullmatch(month) if isinstance(month, str) else None
    if not match:
        raise RulesetError(RULESET_MONTH_FORMAT, "The month must be written YYYY-MM.")
    return int(match.group(1)), int(match.group(2))


def ruleset_for_month(month: str, rulesets: tuple[Ruleset, ...] = RULESETS) -> Ruleset:
    """Return the rule set in force on the first day of ``month``."""
    year, number = month_parse(month)
    first_day = date(year, number, 1)
    in_force = [r for r in rulesets if r.effective_from <= first_day]
    if not in_force:
        raise RulesetError(RULESET_MONTH_BEFORE_FIRST, f"No rule set is in force for {month}.")
    return max(in_force, key=lambda r: r.effective_from)
