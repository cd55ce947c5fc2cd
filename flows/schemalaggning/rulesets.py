"""Working-time rule sets for rosters, versioned: the law as the floor, the agreement as options.

Arbetstidslagen (1982:673) is semi-dispositive: a collective agreement such as AB (SKR/Sobona)
decides how the 24-hour and 7-day periods are counted and over which reference period the
average week is taken. Those choices are fields here; the minimums of the law are checked by
``ruleset_with`` so that configuration can never go below the floor. A roster names the rule
set it was checked against (``"rules": "atl-2026"``); never edit a published one, add a new
version instead, because approved rosters point at it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

RULESET_UNKNOWN = "RULESET_UNKNOWN"
RULESET_OPTION_UNKNOWN = "RULESET_OPTION_UNKNOWN"
RULESET_BELOW_LAW = "RULESET_BELOW_LAW"
RULESET_OPTION_INVALID = "RULESET_OPTION_INVALID"

# How the "period om 24 timmar" of ATL 13 § is counted.
ROLLING_24H = "rolling_24h"  # 24 hours from the start of every shift
WORKING_DAY = "working_day"  # AB: consecutive working-day periods, each from the start of work
CALENDAR_DAY = "calendar_day"  # fixed periods from ``day_start`` local time every day
DAILY_REST_REFERENCES = (ROLLING_24H, WORKING_DAY, CALENDAR_DAY)

# The law's minimums (ATL 1982:673); a rule set may be stricter, never looser.
LAW_DAILY_REST_HOURS = 11  # 13 §
LAW_WEEKLY_REST_HOURS = 36  # 14 §
LAW_MAX_AVERAGE_WEEK_HOURS = 40  # 5 §
# 5 §: the law's own reference period is at most four weeks; a collective agreement may set
# a longer one (ATL 3 §), so ``average_week_reference_weeks`` is not capped by it.
LAW_MAX_AVERAGE_WEEK_REFERENCE_WEEKS = 4
LAW_NIGHT_MAX_HOURS = 8  # 13 a §
LAW_NIGHT_MAX_REFERENCE_WEEKS = 17  # 13 a §: "högst fyra månader"


class RulesetError(ValueError):
    """A rule-set lookup or option that cannot be used; ``code`` is one of ``RULESET_*``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Ruleset:
    """The working-time rules a roster is checked against. Hours are real elapsed hours."""

    code: str
    source: str
    # 13 § dygnsvila.
    daily_rest_hours: float
    daily_rest_reference: str
    day_start: str  # "HH:MM", used by CALENDAR_DAY only
    # 14 § veckovila: fixed 7-day periods from the roster period's first day (a Monday).
    weekly_rest_hours: float
    # 5 § ordinary time, on average over consecutive reference periods from the roster start.
    max_average_week_hours: float
    average_week_reference_weeks: int
    # The contract: scheduled hours = employment_rate × full_time_hours_per_week per week
    # (pro rata for days not on leave), within ± tolerance hours per week.
    full_time_hours_per_week: float
    contract_tolerance_hours_per_week: float
    # 13 a § night work: the night is 22–06 local time. A night worker normally works at least
    # ``night_worker_min_hours`` of a shift at night (in at least half of the shifts), or is
    # contracted night-only. Average over the reference period, per 24-hour period; the weekly
    # rest is left out of the denominator (directive 2003/88/EC art. 16 c).
    night_start: str
    night_end: str
    night_worker_min_hours: float
    night_max_hours: float
    night_reference_weeks: int
    night_average_excludes_weekly_rest: bool

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


ATL_2026 = Ruleset(
    code="atl-2026",
    source="Arbetstidslagen (1982:673) 5, 13, 13 a, 14 §§; AB (SKR/Sobona) for the periods",
    daily_rest_hours=11,
    daily_rest_reference=WORKING_DAY,
    day_start="00:00",
    weekly_rest_hours=36,
    max_average_week_hours=40,
    average_week_reference_weeks=4,
    full_time_hours_per_week=40,
    contract_tolerance_hours_per_week=2,
    night_start="22:00",
    night_end="06:00",
    night_worker_min_hours=3,
    night_max_hours=8,
    night_reference_weeks=4,
    night_average_excludes_weekly_rest=True,
)

RULESETS: dict[str, Ruleset] = {ATL_2026.code: ATL_2026}


def _hhmm(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return False
    hh, mm = value[:2], value[3:]
    return hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60


def ruleset_get(code: str) -> Ruleset:
    """Return the published rule set ``code``."""
    try:
        return RULESETS[code]
    except KeyError:
        known = ", ".join(sorted(RULESETS))
        raise RulesetError(
            RULESET_UNKNOWN, f"Unknown rule set {code!r} (known: {known})."
        ) from None


def ruleset_with(base: Ruleset, options: dict | None) -> Ruleset:
    """Return ``base`` with the agreement's ``options``, refusing any that go below the law."""
    if not options:
        return base
    names = {f.name for f in fields(Ruleset)} - {"code", "source"}
    unknown = sorted(set(options) - names)
    if unknown:
        raise RulesetError(RULESET_OPTION_UNKNOWN, f"Unknown rule options: {', '.join(unknown)}.")
    for name, value in options.items():
        expected = type(getattr(base, name))
        numeric = expected in (int, float) and type(value) in (int, float)
        if type(value) is not expected and not numeric:
            raise RulesetError(
                RULESET_OPTION_INVALID, f"{name} must be a {expected.__name__}, not {value!r}."
            )
    rs = replace(base, **options)
    floors = (
        (rs.daily_rest_hours >= LAW_DAILY_REST_HOURS, "daily_rest_hours", "at least 11"),
        (rs.weekly_rest_hours >= LAW_WEEKLY_REST_HOURS, "weekly_rest_hours", "at least 36"),
        (
            rs.max_average_week_hours <= LAW_MAX_AVERAGE_WEEK_HOURS,
            "max_average_week_hours",
            "at most 40",
        ),
        (rs.night_max_hours <= LAW_NIGHT_MAX_HOURS, "night_max_hours", "at most 8"),
        (
            1 <= rs.night_reference_weeks <= LAW_NIGHT_MAX_REFERENCE_WEEKS,
            "night_reference_weeks",
            "1 to 17 weeks (four months)",
        ),
    )
    for ok, name, limit in floors:
        if not ok:
            raise RulesetError(RULESET_BELOW_LAW, f"{name} must be {limit} (ATL 1982:673).")
    if rs.daily_rest_reference not in DAILY_REST_REFERENCES:
        raise RulesetError(
            RULESET_OPTION_INVALID,
            f"daily_rest_reference must be one of {', '.join(DAILY_REST_REFERENCES)}.",
        )
    if not all(_hhmm(v) for v in (rs.day_start, rs.night_start, rs.night_end)):
        raise RulesetError(RULESET_OPTION_INVALID, "Times of day must be written HH:MM.")
    if rs.average_week_reference_weeks < 1 or rs.full_time_hours_per_week <= 0:
        raise RulesetError(RULESET_OPTION_INVALID, "Reference weeks and full time must be > 0.")
    if rs.contract_tolerance_hours_per_week < 0 or rs.night_worker_min_hours <= 0:
        raise RulesetError(RULESET_OPTION_INVALID, "Tolerances must be ≥ 0.")
    return replace(rs, code=f"{base.code}+options")
