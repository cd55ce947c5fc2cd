"""What an anställningsintyg and an arbetsgivarintyg say, as plain functions of the HR data.

Neither document is a decision: certifying employment is the employer's duty, so there is
nothing to approve. The robot either writes the content from data that settles it, or
raises `CertificateNotSettled` with every finding (named constants below) for an HR
officer's queue. It never guesses: an ended employment without a reason does not become
"egen uppsägning", and two overlapping employments are not merged.

*Anställningsintyg* (employment certificate, to the employee): employment periods,
position (befattning), employment form and extent (sysselsättningsgrad).

*Arbetsgivarintyg* (to the unemployment fund). From 1 October 2025 the unemployment
insurance is income-based: the fund takes the income of the last 12 months from the
employers' monthly arbetsgivardeklaration at Skatteverket, and asks the employer only for
what that declaration does not hold — the employment period, employment form, the reason the
employment ended, leave and severance (avgångsvederlag). While benefit periods decided
under the older, hours-based rules still run, the funds may also ask for worked time and pay
per month; `include_worked_time` adds it. See data/anstallningsintyg/README.md for what of
the current form could be verified from public sources and what could not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from flows.anstallningsintyg.schemas import (
    ALLMAN_VISSTID_LAST_START,
    EMPLOYMENT_FORM_LABELS,
    END_REASON_LABELS,
    FORM_ALLMAN_VISSTID,
    FORM_SARSKILD_VISSTID,
    FORM_TIMAVLONAD,
    LEAVE_KIND_LABELS,
    Employee,
    Employer,
    Employment,
)

FORMAT_VERSION = 1
KIND_ANSTALLNINGSINTYG = "anstallningsintyg"
KIND_ARBETSGIVARINTYG = "arbetsgivarintyg"
KINDS = (KIND_ANSTALLNINGSINTYG, KIND_ARBETSGIVARINTYG)

# Findings: why the rules cannot settle a certificate. Each goes to the HR officer's queue.
NO_EMPLOYMENT = "no_employment"
INVALID_PERIOD = "invalid_period"  # an employment or leave ends before it starts
OVERLAPPING_PERIODS = "overlapping_periods"
MISSING_END_REASON = "missing_end_reason"
END_REASON_WITHOUT_END = "end_reason_without_end"
FIXED_TERM_WITHOUT_END = "fixed_term_without_end"
FORM_NOT_AVAILABLE = "form_not_available"  # allmän visstid agreed after 30 September 2022
MISSING_EXTENT = "missing_extent"
HOURS_OUTSIDE_EMPLOYMENT = "hours_outside_employment"
DUPLICATE_MONTH = "duplicate_month"
LEAVE_OUTSIDE_EMPLOYMENT = "leave_outside_employment"
SEVERANCE_WITHOUT_END = "severance_without_end"
# Only for the arbetsgivarintyg:
UNKNOWN_EMPLOYMENT = "unknown_employment"
NO_EMPLOYMENT_IN_PERIOD = "no_employment_in_period"
HOURS_MISSING = "hours_missing"

# Months of worked time the funds asked for under the hours-based rules.
WORKED_TIME_MONTHS = 12

_OPEN_END = date.max


@dataclass(frozen=True)
class Finding:
    """One reason the data cannot settle the certificate, for the HR officer to resolve."""

    code: str
    message: str
    employment_ids: tuple[str, ...] = ()
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["employment_ids"] = list(self.employment_ids)
        return data


class CertificateNotSettled(Exception):
    """The HR data does not settle the certificate; `findings` say why, all of them."""

    def __init__(self, findings: Iterable[Finding]):
        self.findings = tuple(findings)
        super().__init__("; ".join(f"{f.code}: {f.message}" for f in self.findings))

    @property
    def codes(self) -> list[str]:
        return sorted({f.code for f in self.findings})

    def as_dict(self) -> dict:
        return {"exception": self.codes, "findings": [f.as_dict() for f in self.findings]}


# --- months ----------------------------------------------------------------------------


def _month_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _month_add(month: str, delta: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _month_first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:]), 1)


def _month_last_day(month: str) -> date:
    return _month_first_day(_month_add(month, 1)) - timedelta(days=1)


def _months(first: str, last: str) -> list[str]:
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = _month_add(month, 1)
    return months


def _end(employment: Employment) -> date:
    return employment.end or _OPEN_END


def _overlap(a_start: date, a_end: date, b_start: date, b_end: date) -> tuple[date, date] | None:
    start, end = max(a_start, b_start), min(a_end, b_end)
    return (start, end) if start <= end else None


def _month_in_employment(month: str, employment: Employment) -> bool:
    return (
        _overlap(
            _month_first_day(month), _month_last_day(month), employment.start, _end(employment)
        )
        is not None
    )


# --- validation ------------------------------------------------------------------------


def _effective_extent(employment: Employment, start: date, end: date) -> int:
    """The extent worked over [start, end]: less any leave that covers all of it.

    Someone tjänstledig from their own position to take a vikariat elsewhere holds two
    employments at once; only the one they work in counts towards the 100 % ceiling.
    """
    extent = employment.extent_percent or 0
    covering = [
        leave.extent_percent
        for leave in employment.leave
        if leave.start <= start and leave.end >= end
    ]
    return max(0, extent - max(covering, default=0))


def _overlap_findings(employments: tuple[Employment, ...]) -> list[Finding]:
    """Two employments at once are contradictory when they are the same position at the
    same workplace (a duplicated record), or when their extents, after leave, exceed 100 %.
    Hourly-paid work alongside another employment is ordinary and not flagged."""
    findings = []
    for i, a in enumerate(employments):
        for b in employments[i + 1 :]:
            both = _overlap(a.start, _end(a), b.start, _end(b))
            if both is None:
                continue
            same_post = (a.position.casefold(), a.workplace.casefold()) == (
                b.position.casefold(),
                b.workplace.casefold(),
            )
            extent = _effective_extent(a, *both) + _effective_extent(b, *both)
            if same_post or extent > 100:
                findings.append(
                    Finding(
                        OVERLAPPING_PERIODS,
                        "Two employments overlap "
                        + ("in the same position." if same_post else f"with {extent} % together."),
                        (a.id, b.id),
                        {
                            "from": both[0].isoformat(),
                            "to": None if both[1] == _OPEN_END else both[1].isoformat(),
                            "extent_percent": extent,
                        },
                    )
                )
    return findings


def _employment_findings(employment: Employment, *, as_of: date) -> list[Finding]:
    e, ids = employment, (employment.id,)
    findings = []
    if e.end is not None and e.end < e.start:
        findings.append(Finding(INVALID_PERIOD, "The employment ends before it starts.", ids))
    if e.end is not None and e.end <= as_of and e.end_reason is None:
        findings.append(
            Finding(MISSING_END_REASON, "The employment has ended but no reason is recorded.", ids)
        )
    if e.end is None and e.end_reason is not None:
        findings.append(
            Finding(END_REASON_WITHOUT_END, "A reason for ending is recorded but no last day.", ids)
        )
    if e.end is None and e.form in (FORM_ALLMAN_VISSTID, FORM_SARSKILD_VISSTID):
        findings.append(
            Finding(FIXED_TERM_WITHOUT_END, "A fixed-term employment has no last day.", ids)
        )
    if e.form == FORM_ALLMAN_VISSTID and e.start > ALLMAN_VISSTID_LAST_START:
        findings.append(
            Finding(
                FORM_NOT_AVAILABLE,
                "Allmän visstidsanställning could not be agreed after 2022-09-30 "
                "(särskild visstidsanställning replaced it, SFS 2022:836).",
                ids,
            )
        )
    if e.form != FORM_TIMAVLONAD and e.extent_percent is None:
        findings.append(Finding(MISSING_EXTENT, "No extent (sysselsättningsgrad) recorded.", ids))
    if e.severance is not None and (e.end is None or e.end > as_of):
        findings.append(
            Finding(SEVERANCE_WITHOUT_END, "Severance is recorded for an ongoing employment.", ids)
        )
    seen: set[str] = set()
    outside = []
    for record in e.months:
        if record.month in seen:
            findings.append(
                Finding(
                    DUPLICATE_MONTH,
                    "Payroll reports the same month twice.",
                    ids,
                    {"month": record.month},
                )
            )
        seen.add(record.month)
        if not _month_in_employment(record.month, e):
            outside.append(record.month)
    if outside:
        findings.append(
            Finding(
                HOURS_OUTSIDE_EMPLOYMENT,
                "Payroll reports hours for months outside the employment.",
                ids,
                {"months": sorted(outside)},
            )
        )
    for leave in e.leave:
        if leave.end < leave.start:
            findings.append(Finding(INVALID_PERIOD, "A leave period ends before it starts.", ids))
        elif leave.start < e.start or leave.end > _end(e):
            findings.append(
                Finding(
                    LEAVE_OUTSIDE_EMPLOYMENT,
                    "A leave period lies (partly) outside the employment.",
                    ids,
                    {
                        "kind": leave.kind,
                        "start": leave.start.isoformat(),
                        "end": leave.end.isoformat(),
                    },
                )
            )
    return findings


def employee_findings(employee: Employee, *, as_of: date) -> list[Finding]:
    """Everything in the employment history that a certificate cannot be written from."""
    if not employee.employments:
        return [Finding(NO_EMPLOYMENT, "The employee has no employment on record.")]
    findings = []
    for employment in employee.employments:
        findings.extend(_employment_findings(employment, as_of=as_of))
    findings.extend(_overlap_findings(employee.employments))
    return findings


# --- content ---------------------------------------------------------------------------


def _party(employee: Employee, employer: Employer) -> dict:
    return {
        "employer": {
            "name": employer.name,
            "organisation_number": employer.organisation_number,
            "address": employer.address,
            "hr_contact": employer.hr_contact,
        },
        "employee": {
            "id": employee.id,
            "name": employee.name,
            "personnummer": employee.personnummer,
        },
    }


def _status(employment: Employment, *, as_of: date) -> str:
    if employment.start > as_of:
        return "upcoming"
    if employment.end is not None and employment.end < as_of:
        return "ended"
    return "ongoing"


def _working_time(employment: Employment) -> dict:
    """Arbetstidsmått as the fund's form asks it: heltid, deltid or varierande arbetstid."""
    if employment.form == FORM_TIMAVLONAD:
        return {"measure": "varierande", "extent_percent": None, "hours_per_week": None}
    extent = employment.extent_percent
    return {
        "measure": "heltid" if extent == 100 else "deltid",
        "extent_percent": extent,
        "hours_per_week": round(employment.full_time_hours_per_week * extent / 100, 2),
    }


def certificate_content(employee: Employee, *, employer: Employer, issued_on: date) -> dict:
    """The content of an anställningsintyg, or `CertificateNotSettled`.

    Periods are listed oldest first. An employment whose last day is in the future (a
    fixed term, or notice given) is ongoing with its agreed last day shown. Hourly-paid
    employments state the hours worked up to the issue date instead of an extent.
    """
    findings = employee_findings(employee, as_of=issued_on)
    if findings:
        raise CertificateNotSettled(findings)
    issue_month = _month_of(issued_on)
    employments = []
    for e in sorted(employee.employments, key=lambda e: (e.start, e.id)):
        hours_total = None
        if e.form == FORM_TIMAVLONAD:
            hours_total = sum(r.hours_worked for r in e.months if r.month <= issue_month)
        employments.append(
            {
                "employment_id": e.id,
                "position": e.position,
                "workplace": e.workplace,
                "form": e.form,
                "form_label": EMPLOYMENT_FORM_LABELS[e.form],
                "start": e.start.isoformat(),
                "end": e.end.isoformat() if e.end else None,
                "status": _status(e, as_of=issued_on),
                "extent_percent": e.extent_percent,
                "hours_per_week": _working_time(e)["hours_per_week"],
                "hours_worked_total": hours_total,
            }
        )
    first_day = min(e.start for e in employee.employments)
    # A last day only when every employment has ended: "har varit anställd".
    ended = all(row["status"] == "ended" for row in employments)
    return {
        "kind": KIND_ANSTALLNINGSINTYG,
        "format_version": FORMAT_VERSION,
        "issued_on": issued_on.isoformat(),
        **_party(employee, employer),
        "employments": employments,
        "first_day": first_day.isoformat(),
        "last_day": max(e.end for e in employee.employments).isoformat() if ended else None,
    }


def _window(employment: Employment, *, issued_on: date, months: int) -> list[str]:
    """The payroll months reported for an employment: up to `months` complete months
    ending with the month before the issue date, or with the employment's last month if
    it ended earlier, and only months the employment covers."""
    last = _month_add(_month_of(issued_on), -1)
    if employment.end is not None:
        last = min(last, _month_of(employment.end))
    first = _month_add(last, -(months - 1))
    return [m for m in _months(first, last) if _month_in_employment(m, employment)]


def _leave_rows(employment: Employment, *, start: date, end: date) -> list[dict]:
    rows = []
    for leave in sorted(employment.leave, key=lambda leave: leave.start):
        span = _overlap(leave.start, leave.end, start, end)
        if span is None:
            continue
        rows.append(
            {
                "kind": leave.kind,
                "kind_label": LEAVE_KIND_LABELS[leave.kind],
                "start": leave.start.isoformat(),
                "end": leave.end.isoformat(),
                "extent_percent": leave.extent_percent,
                "paid": leave.paid,
                "days_in_period": (span[1] - span[0]).days + 1,
            }
        )
    return rows


def arbetsgivarintyg_content(
    employee: Employee,
    *,
    employer: Employer,
    issued_on: date,
    employment_id: str | None = None,
    include_worked_time: bool = True,
    months: int = WORKED_TIME_MONTHS,
) -> dict:
    """The data an arbetsgivarintyg needs, one section per employment, or `CertificateNotSettled`.

    Without `employment_id` the sections are every employment that covers any day of the
    12 calendar months before the month of issue (a fund asks for all employment in that
    time). Worked time per month, when included, must be on record for every month of an
    employment with a set extent; for hourly-paid work a month without payroll is a month
    without work, which is what payroll shows.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    findings = employee_findings(employee, as_of=issued_on)
    if employment_id is not None:
        chosen = [e for e in employee.employments if e.id == employment_id]
        if not chosen:
            findings.append(
                Finding(
                    UNKNOWN_EMPLOYMENT,
                    "The employee has no employment with that id.",
                    (employment_id,),
                )
            )
    else:
        window_start = _month_first_day(_month_add(_month_of(issued_on), -12))
        chosen = [
            e
            for e in employee.employments
            if _overlap(e.start, _end(e), window_start, issued_on) is not None
        ]
        if employee.employments and not chosen:
            findings.append(
                Finding(
                    NO_EMPLOYMENT_IN_PERIOD,
                    "No employment in the 12 months before the month of issue.",
                    detail={"from": window_start.isoformat(), "to": issued_on.isoformat()},
                )
            )
    sections = []
    for e in sorted(chosen, key=lambda e: (e.start, e.id)):
        window = _window(e, issued_on=issued_on, months=months)
        by_month = {r.month: r for r in e.months}
        if window:
            period_start = max(e.start, _month_first_day(window[0]))
            period_end = min(_end(e), _month_last_day(window[-1]))
        else:
            period_start = period_end = None
        section = {
            "employment_id": e.id,
            "position": e.position,
            "workplace": e.workplace,
            "form": e.form,
            "form_label": EMPLOYMENT_FORM_LABELS[e.form],
            "start": e.start.isoformat(),
            "end": e.end.isoformat() if e.end else None,
            "status": _status(e, as_of=issued_on),
            "working_time": _working_time(e),
            "notice_date": e.notice_date.isoformat() if e.notice_date else None,
            "end_reason": e.end_reason,
            "end_reason_label": END_REASON_LABELS[e.end_reason] if e.end_reason else None,
            "severance": (
                {"amount": e.severance.amount, "paid_month": e.severance.paid_month}
                if e.severance
                else None
            ),
            "leave": (_leave_rows(e, start=period_start, end=period_end) if period_start else []),
        }
        if include_worked_time:
            missing = [m for m in window if m not in by_month]
            if missing and e.form != FORM_TIMAVLONAD:
                findings.append(
                    Finding(
                        HOURS_MISSING,
                        "Payroll has no record for months of the employment.",
                        (e.id,),
                        {"months": missing},
                    )
                )
            rows = []
            for month in window:
                record = by_month.get(month)
                rows.append(
                    {
                        "month": month,
                        "hours_worked": record.hours_worked if record else 0,
                        "absence_hours": record.absence_hours if record else 0,
                        "overtime_hours": record.overtime_hours if record else 0,
                        "gross_pay": record.gross_pay if record else 0,
                    }
                )
            section["worked_time"] = rows
            section["worked_time_totals"] = {
                "hours_worked": sum(r["hours_worked"] for r in rows),
                "gross_pay": sum(r["gross_pay"] for r in rows),
            }
        sections.append(section)
    if findings:
        raise CertificateNotSettled(findings)
    return {
        "kind": KIND_ARBETSGIVARINTYG,
        "format_version": FORMAT_VERSION,
        "issued_on": issued_on.isoformat(),
        **_party(employee, employer),
        "worked_time_included": include_worked_time,
        "employments": sections,
    }
