"""The monthly scan: who of the municipality's children of compulsory-school age to look at.

``scan`` is the one function the management command and (in phase 2) the flow call. It reads
the sources, writes nothing, and returns every child flagged for the month with the figures
behind each flag and the rule-set version.

Reasons, one child may have several:

* ``not_enrolled``: folkbokförd here, of compulsory-school age during the month, and no
  enrolment in a compulsory school form (any principal, municipal or fristående) covers any
  day of the month. This is the gap Skolinspektionen found largest.
* ``placement_gap``: enrolled for part of the month, but a run of at least
  ``placement_gap_min_school_days`` school days (Mon–Fri) within the child's compulsory
  period is covered by no enrolment (between two schools, or after leaving one). Kept apart
  from ``not_enrolled`` because the child is known to a school and the question for the
  caseworker differs (a late transfer, not a child nobody knows); days before
  ``folkbokford_from`` do not count, the child was not ours then.
* ``absence``: over the scheduled (offered) time of the month's enrolments, unexcused
  absence, total absence or whole days of unexcused absence reach a threshold.
* ``report_missing``: a school the child was enrolled at reported no attendance for the
  child during the enrolment. Never read as "no absence"; figures from the other
  enrolments are still given.

``hints`` add what the caseworker should check (e.g. a grade-9 enrolment that ended in June)
without ever removing a flag.

Holiday months (July) are not checked at all: schools offer no time, and children move between
enrolments over the summer; August catches a child who did not start.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from flows.skolplikt.connectors.population import Address, Child, Guardian, PopulationRegister
from flows.skolplikt.connectors.ss12000 import SS12000_INVALID, Ss12000Error, Ss12000Source
from flows.skolplikt.rules import (
    Period,
    absence_thresholds_met,
    compulsory_period,
    is_school_day,
    iso_week_label,
    longest_run,
    month_period,
    percent,
)
from flows.skolplikt.rulesets import Ruleset, ruleset_for_month
from flows.skolplikt.schemas import (
    COMPULSORY_SCHOOL_TYPES,
    ORGANISATION_TYPE_PRINCIPAL,
    SECURITY_MARKING_NONE,
    SPECIAL_SCHOOL_TYPE,
    Enrolment,
    Organisation,
    Person,
)

REASON_NOT_ENROLLED = "not_enrolled"
REASON_PLACEMENT_GAP = "placement_gap"
REASON_ABSENCE = "absence"
REASON_REPORT_MISSING = "report_missing"
REASONS = (REASON_NOT_ENROLLED, REASON_PLACEMENT_GAP, REASON_ABSENCE, REASON_REPORT_MISSING)

# Hints for the caseworker, never a reason to leave a child unflagged.
# The child's last enrolment was the highest grade and ended at a spring term's end: the
# pupil has probably gone out of the highest grade, which ends compulsory school early
# (7 kap. 14 §). Not applied automatically: a grade-9 enrolment also ends when a pupil moves,
# and a child wrongly left out of the scan is the worst error this robot can make.
HINT_HIGHEST_GRADE_COMPLETED = "highest_grade_probably_completed"
HIGHEST_SCHOOL_YEAR = {"GR": 9, "GRS": 9, "SAM": 9, "SP": 10}

# Why a school's report is missing for a pupil.
MISSING_SCHOOL_SILENT = "school_reported_nothing"  # no attendance for anyone that month
MISSING_PUPIL_ABSENT_FROM_REPORT = "pupil_not_in_report"  # others reported, not this pupil


@dataclass(frozen=True)
class School:
    id: str
    name: str
    school_unit_code: str | None
    principal: str | None
    independent: bool  # fristående: the principal is not a municipality


@dataclass(frozen=True)
class PlacementInMonth:
    """One enrolment, clipped to the days of the month it counts for."""

    school: School
    school_type: str
    school_year: int | None
    start: date
    end: date


@dataclass(frozen=True)
class MissingReport:
    school: School
    start: date
    end: date
    why: str


@dataclass(frozen=True)
class WeekFigures:
    week: str  # ISO week, e.g. "2026-W45"
    scheduled_minutes: int
    absent_minutes: int
    valid_absence_minutes: int
    unexcused_minutes: int
    unexcused_whole_days: int


@dataclass(frozen=True)
class AbsenceFigures:
    """Minutes summed over the reported enrolments of the month (``schools_counted``)."""

    scheduled_minutes: int
    absent_minutes: int
    valid_absence_minutes: int
    unexcused_minutes: int
    unexcused_percent: str
    total_absence_percent: str
    unexcused_whole_days: int
    unexcused_whole_day_dates: tuple[date, ...]
    weeks: tuple[WeekFigures, ...]
    unexcused_minutes_by_weekday: tuple[int, ...]  # Monday..Friday
    schools_counted: tuple[str, ...]
    thresholds_met: tuple[str, ...]


@dataclass(frozen=True)
class FlaggedChild:
    personnummer: str
    name: str
    birth_date: date
    protected: bool
    address: Address | None
    guardians: tuple[Guardian, ...]
    reasons: tuple[str, ...]
    compulsory_from: date
    compulsory_until: date
    placements: tuple[PlacementInMonth, ...] = ()
    gap_school_days: tuple[date, ...] = ()
    missing_reports: tuple[MissingReport, ...] = ()
    absence: AbsenceFigures | None = None
    ss12000_person_id: str | None = None
    hints: tuple[str, ...] = ()

    @property
    def schools(self) -> tuple[School, ...]:
        seen: dict[str, School] = {}
        for placement in self.placements:
            seen.setdefault(placement.school.id, placement.school)
        return tuple(seen.values())


@dataclass(frozen=True)
class ScanResult:
    month: str
    ruleset_version: str
    municipality_code: str
    checked: bool
    children_registered: int
    children_of_compulsory_age: int
    flagged: tuple[FlaggedChild, ...]
    schools_without_report: tuple[School, ...] = ()
    note: str = ""
    thresholds: dict[str, int] = field(default_factory=dict)

    def by_reason(self, reason: str) -> list[FlaggedChild]:
        return [c for c in self.flagged if reason in c.reasons]

    def as_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data (dates as ISO strings). Not redacted."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


def _schools(organisations: list[Organisation], ruleset: Ruleset) -> dict[str, School]:
    by_id = {o.id: o for o in organisations}
    schools = {}
    for org in organisations:
        parent = by_id.get(org.parentOrganisation.id) if org.parentOrganisation else None
        principal = (
            parent if parent and parent.organisationType == ORGANISATION_TYPE_PRINCIPAL else None
        )
        number = (principal.organisationNumber or "") if principal else ""
        schools[org.id] = School(
            id=org.id,
            name=org.displayName,
            school_unit_code=org.schoolUnitCode,
            principal=principal.displayName if principal else None,
            independent=bool(principal)
            and not number.replace("-", "").startswith(ruleset.municipal_principal_prefix),
        )
    return schools


def _hints(person: Person | None, window: Period) -> tuple[str, ...]:
    if person is None:
        return ()
    ended = [e for e in person.enrolments if not e.cancelled and e.endDate]
    if not ended:
        return ()
    last = max(ended, key=lambda e: e.endDate)
    if (
        HIGHEST_SCHOOL_YEAR.get(last.schoolType) == last.schoolYear
        and last.endDate.month == 6
        and last.endDate < window.end
    ):
        return (HINT_HIGHEST_GRADE_COMPLETED,)
    return ()


def _relevant_enrolments(person: Person | None, window: Period) -> list[tuple[Enrolment, Period]]:
    if person is None:
        return []
    result = []
    for enrolment in person.enrolments:
        if enrolment.cancelled or enrolment.schoolType not in COMPULSORY_SCHOOL_TYPES:
            continue
        span = Period(enrolment.startDate, enrolment.endDate or date.max)
        clipped = span.intersect(window)
        if clipped:
            result.append((enrolment, clipped))
    return result


class _AttendanceCache:
    """Asks the source once per school and school day of the month, on first need."""

    def __init__(self, source: Ss12000Source, days: list[date]) -> None:
        self.source = source
        self.days = days
        self._by_school: dict[str, dict[date, dict[str, list[Any]]]] = {}

    def school(self, school_id: str) -> dict[date, dict[str, list[Any]]]:
        if school_id not in self._by_school:
            per_day: dict[date, dict[str, list[Any]]] = {}
            for day in self.days:
                per_student: dict[str, list[Any]] = defaultdict(list)
                for record in self.source.aggregated_attendance(
                    organisation=school_id, start_date=day, end_date=day
                ):
                    per_student[record.student.id].append(record)
                per_day[day] = per_student
            self._by_school[school_id] = per_day
        return self._by_school[school_id]

    def school_reported(self, school_id: str) -> bool:
        return any(self.school(school_id).values())


def _absence(
    *,
    person_id: str,
    placements: list[PlacementInMonth],
    cache: _AttendanceCache,
    ruleset: Ruleset,
) -> tuple[AbsenceFigures | None, list[MissingReport]]:
    missing: list[MissingReport] = []
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])  # offered, valid, invalid
    counted: list[str] = []
    for placement in placements:
        days = cache.school(placement.school.id)
        period = Period(placement.start, placement.end)
        found = False
        for day, students in days.items():
            if not period.contains(day):
                continue
            for record in students.get(person_id, ()):
                found = True
                per_day[day][0] += record.offeredSum
                per_day[day][1] += record.validAbsenceSum
                per_day[day][2] += record.invalidAbsenceSum
        if found:
            if placement.school.id not in counted:
                counted.append(placement.school.id)
        else:
            why = (
                MISSING_PUPIL_ABSENT_FROM_REPORT
                if cache.school_reported(placement.school.id)
                else MISSING_SCHOOL_SILENT
            )
            missing.append(MissingReport(placement.school, placement.start, placement.end, why))
    if not counted:
        return None, missing

    weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    weekday_unexcused = [0] * 5
    whole_days = []
    for day in sorted(per_day):
        offered, valid, invalid = per_day[day]
        week = weeks[iso_week_label(day)]
        week[0] += offered
        week[1] += valid
        week[2] += invalid
        if day.weekday() < 5:
            weekday_unexcused[day.weekday()] += invalid
        if offered > 0 and invalid >= offered:
            whole_days.append(day)
            week[3] += 1
    scheduled = sum(v[0] for v in per_day.values())
    valid = sum(v[1] for v in per_day.values())
    unexcused = sum(v[2] for v in per_day.values())
    absent = valid + unexcused
    figures = AbsenceFigures(
        scheduled_minutes=scheduled,
        absent_minutes=absent,
        valid_absence_minutes=valid,
        unexcused_minutes=unexcused,
        unexcused_percent=str(percent(unexcused, scheduled)),
        total_absence_percent=str(percent(absent, scheduled)),
        unexcused_whole_days=len(whole_days),
        unexcused_whole_day_dates=tuple(whole_days),
        weeks=tuple(
            WeekFigures(
                week=label,
                scheduled_minutes=w[0],
                absent_minutes=w[1] + w[2],
                valid_absence_minutes=w[1],
                unexcused_minutes=w[2],
                unexcused_whole_days=w[3],
            )
            for label, w in sorted(weeks.items())
        ),
        unexcused_minutes_by_weekday=tuple(weekday_unexcused),
        schools_counted=tuple(counted),
        thresholds_met=absence_thresholds_met(
            scheduled=scheduled,
            unexcused=unexcused,
            absent=absent,
            unexcused_whole_days=len(whole_days),
            ruleset=ruleset,
        ),
    )
    return figures, missing


def _child_result(
    *,
    child: Child,
    person: Person | None,
    month: Period,
    schools: dict[str, School],
    cache: _AttendanceCache,
    ruleset: Ruleset,
) -> FlaggedChild | None | bool:
    """Return the flag for one child, None when nothing is flagged, False when not of age."""
    special = bool(person) and any(
        e.schoolType == SPECIAL_SCHOOL_TYPE and not e.cancelled for e in person.enrolments
    )
    compulsory = compulsory_period(
        birth_date=child.birth_date,
        ruleset=ruleset,
        deferred=child.uppskjuten_skolplikt,
        special_school=special,
    )
    window = compulsory.intersect(month)
    if window is None:
        return False
    if child.folkbokford_from and child.folkbokford_from > window.start:
        if child.folkbokford_from > window.end:
            return False
        window = Period(child.folkbokford_from, window.end)

    protected = child.skyddad_identitet or (
        person is not None and person.securityMarking != SECURITY_MARKING_NONE
    )
    base = {
        "personnummer": child.personnummer,
        "name": child.name,
        "birth_date": child.birth_date,
        "protected": protected,
        "address": child.address,
        "guardians": child.guardians,
        "compulsory_from": compulsory.start,
        "compulsory_until": compulsory.end,
        "ss12000_person_id": person.id if person else None,
        "hints": _hints(person, window),
    }
    enrolments = _relevant_enrolments(person, window)
    if not enrolments:
        return FlaggedChild(reasons=(REASON_NOT_ENROLLED,), **base)

    placements = []
    for enrolment, clipped in sorted(enrolments, key=lambda e: e[1].start):
        school = schools.get(enrolment.enroledAt.id)
        if school is None:
            raise Ss12000Error(
                SS12000_INVALID,
                "An enrolment names a school unit that organisations.json does not hold "
                f"({enrolment.enroledAt.id}).",
            )
        placements.append(
            PlacementInMonth(
                school=school,
                school_type=enrolment.schoolType,
                school_year=enrolment.schoolYear,
                start=clipped.start,
                end=clipped.end,
            )
        )

    reasons = []
    school_days = [d for d in window.days() if is_school_day(d)]
    covered = {d for p in placements for d in Period(p.start, p.end).days()}
    gap = longest_run(school_days, set(school_days) - covered)
    if len(gap) < ruleset.placement_gap_min_school_days:
        gap = []
    else:
        reasons.append(REASON_PLACEMENT_GAP)

    absence, missing = _absence(
        person_id=person.id, placements=placements, cache=cache, ruleset=ruleset
    )
    if absence and absence.thresholds_met:
        reasons.append(REASON_ABSENCE)
    if missing:
        reasons.append(REASON_REPORT_MISSING)
    if not reasons:
        return None
    return FlaggedChild(
        reasons=tuple(reasons),
        placements=tuple(placements),
        gap_school_days=tuple(gap),
        missing_reports=tuple(missing),
        absence=absence,
        **base,
    )


def scan(
    *,
    month: str,
    register: PopulationRegister,
    ss12000: Ss12000Source,
    ruleset: Ruleset | None = None,
) -> ScanResult:
    """Scan one month ("YYYY-MM") and return the flagged children, in personnummer order.

    Raises ``RulesetError`` for a bad month, ``Ss12000Error`` and
    ``PopulationRegisterError`` for sources that cannot be read.
    """
    ruleset = ruleset or ruleset_for_month(month)
    period = month_period(month)
    extract = register.children_registered()
    thresholds = {
        "unexcused_percent": ruleset.unexcused_percent,
        "total_absence_percent": ruleset.total_absence_percent,
        "unexcused_whole_days": ruleset.unexcused_whole_days,
        "placement_gap_min_school_days": ruleset.placement_gap_min_school_days,
    }
    common = {
        "month": month,
        "ruleset_version": ruleset.version,
        "municipality_code": extract.municipality_code,
        "children_registered": len(extract.children),
        "thresholds": thresholds,
    }
    if period.start.month in ruleset.holiday_months:
        return ScanResult(
            checked=False,
            children_of_compulsory_age=0,
            flagged=(),
            note="Sommarlov: månaden kontrolleras inte (ingen schemalagd tid).",
            **common,
        )

    schools = _schools(ss12000.organisations(), ruleset)
    persons = {p.civicNo.value: p for p in ss12000.persons() if p.civicNo}
    cache = _AttendanceCache(ss12000, [d for d in period.days() if is_school_day(d)])
    flagged = []
    of_age = 0
    for child in sorted(extract.children, key=lambda c: c.personnummer):
        result = _child_result(
            child=child,
            person=persons.get(child.personnummer),
            month=period,
            schools=schools,
            cache=cache,
            ruleset=ruleset,
        )
        if result is False:
            continue
        of_age += 1
        if result is not None:
            flagged.append(result)
    silent = {
        m.school.id: m.school
        for c in flagged
        for m in c.missing_reports
        if m.why == MISSING_SCHOOL_SILENT
    }
    return ScanResult(
        checked=True,
        children_of_compulsory_age=of_age,
        flagged=tuple(flagged),
        schools_without_report=tuple(silent[k] for k in sorted(silent)),
        **common,
    )
