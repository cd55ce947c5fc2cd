"""Data the rules cannot settle becomes named findings for an HR officer, never a guess."""

from datetime import date

import pytest

from flows.anstallningsintyg import rules
from flows.anstallningsintyg.rules import (
    CertificateNotSettled,
    arbetsgivarintyg_content,
    certificate_content,
    employee_findings,
)
from tests.flows.anstallningsintyg.builders import EMPLOYER, employee, employment, month

ISSUED = date(2026, 12, 1)


def _codes(person) -> list[str]:
    return sorted(f.code for f in employee_findings(person, as_of=ISSUED))


def _not_settled(person) -> CertificateNotSettled:
    with pytest.raises(CertificateNotSettled) as raised:
        certificate_content(person, employer=EMPLOYER, issued_on=ISSUED)
    return raised.value


def test_no_employment():
    """Someone without any employment gets `no_employment`, not an empty certificate."""
    error = _not_settled(employee())
    assert error.codes == [rules.NO_EMPLOYMENT]


def test_overlapping_full_time_employments():
    """Two full-time employments at once are `overlapping_periods`, with the overlap named."""
    person = employee(
        employment(id="A", start="2021-04-01", end="2026-05-31", end_reason="egen_uppsagning"),
        employment(id="B", position="Fastighetstekniker", start="2026-03-01"),
    )
    error = _not_settled(person)
    assert error.codes == [rules.OVERLAPPING_PERIODS]
    [finding] = error.findings
    assert finding.employment_ids == ("A", "B")
    assert finding.detail == {"from": "2026-03-01", "to": "2026-05-31", "extent_percent": 200}


def test_overlap_of_the_same_position_is_a_duplicate_even_when_part_time():
    """The same position at the same workplace twice at once is contradictory whatever the extent."""
    person = employee(
        employment(id="A", extent_percent=50, start="2024-01-01"),
        employment(id="B", extent_percent=50, start="2025-01-01"),
    )
    assert _codes(person) == [rules.OVERLAPPING_PERIODS]


def test_two_part_time_employments_within_full_time_are_not_an_overlap():
    """50 % + 50 % in different positions is a legitimate combination."""
    person = employee(
        employment(id="A", extent_percent=50, start="2024-01-01"),
        employment(id="B", extent_percent=50, position="Kock", start="2025-01-01"),
    )
    assert _codes(person) == []


def test_hourly_work_alongside_full_time_is_not_an_overlap():
    """Timavlönad work (no extent) beside a full-time employment is ordinary."""
    person = employee(
        employment(id="A", start="2024-01-01"),
        employment(
            id="B",
            form="timavlonad",
            extent_percent=None,
            position="Vårdbiträde",
            start="2025-01-01",
        ),
    )
    assert _codes(person) == []


def test_leave_from_one_employment_covers_a_vikariat_in_another():
    """Tjänstledig 100 % from the own post during a full-time vikariat elsewhere: no overlap."""
    own = employment(
        id="A",
        start="2020-01-01",
        leave=[{"kind": "tjanstledig", "start": "2026-01-01", "end": "2026-06-30"}],
    )
    vikariat = employment(
        id="B",
        form="vikariat",
        position="Enhetschef",
        start="2026-01-01",
        end="2026-06-30",
        end_reason="visstid_upphorde",
    )
    assert _codes(employee(own, vikariat)) == []
    # Leave that ends a day before the vikariat does not cover it.
    short = employment(
        id="A",
        start="2020-01-01",
        leave=[{"kind": "tjanstledig", "start": "2026-01-01", "end": "2026-06-29"}],
    )
    assert _codes(employee(short, vikariat)) == [rules.OVERLAPPING_PERIODS]


def test_missing_end_reason():
    """An employment that has ended without a recorded reason is `missing_end_reason`."""
    error = _not_settled(employee(employment(id="A", end="2026-08-31")))
    assert error.codes == [rules.MISSING_END_REASON]
    assert error.findings[0].employment_ids == ("A",)


def test_no_end_reason_needed_before_the_last_day():
    """A fixed term ending after the issue date needs no reason yet."""
    person = employee(employment(form="vikariat", start="2026-01-01", end="2026-12-31"))
    assert _codes(person) == []


def test_end_reason_without_end():
    """A reason for ending on an employment without a last day is contradictory."""
    assert _codes(employee(employment(end_reason="arbetsbrist"))) == [rules.END_REASON_WITHOUT_END]


def test_hours_outside_employment():
    """Payroll for months after the last day is `hours_outside_employment`, months named."""
    person = employee(
        employment(
            start="2023-09-01",
            end="2026-09-30",
            end_reason="egen_uppsagning",
            months=[
                month("2026-09", 88, 14200),
                month("2026-10", 88, 14200),
                month("2026-11", 80, 14200),
            ],
        )
    )
    error = _not_settled(person)
    assert error.codes == [rules.HOURS_OUTSIDE_EMPLOYMENT]
    assert error.findings[0].detail == {"months": ["2026-10", "2026-11"]}


def test_a_partly_covered_month_is_inside_the_employment():
    """Payroll for the month an employment starts mid-month is inside it."""
    person = employee(employment(start="2026-03-16", months=[month("2026-03", 88, 15000)]))
    assert _codes(person) == []


def test_invalid_period():
    """An employment that ends before it starts is `invalid_period`."""
    person = employee(employment(start="2026-05-01", end="2026-04-30", end_reason="avsked"))
    assert rules.INVALID_PERIOD in _codes(person)


def test_fixed_term_without_end():
    """A särskild visstidsanställning without a last day is `fixed_term_without_end`."""
    assert _codes(employee(employment(form="sarskild_visstid", start="2025-01-01"))) == [
        rules.FIXED_TERM_WITHOUT_END
    ]


def test_allman_visstid_after_the_2022_reform():
    """Allmän visstid agreed from 2022-10-01 is `form_not_available`; on 2022-09-30 it was not."""
    late = employment(
        form="allman_visstid", start="2022-10-01", end="2023-06-30", end_reason="visstid_upphorde"
    )
    in_time = employment(
        form="allman_visstid", start="2022-09-30", end="2023-06-30", end_reason="visstid_upphorde"
    )
    assert _codes(employee(late)) == [rules.FORM_NOT_AVAILABLE]
    assert _codes(employee(in_time)) == []


def test_missing_extent():
    """A monthly-paid employment without sysselsättningsgrad is `missing_extent`."""
    assert _codes(employee(employment(extent_percent=None))) == [rules.MISSING_EXTENT]


def test_duplicate_month():
    """Two payroll records for one month of one employment are `duplicate_month`."""
    person = employee(employment(months=[month("2026-01", 1, 1), month("2026-01", 2, 2)]))
    assert _codes(person) == [rules.DUPLICATE_MONTH]


def test_leave_outside_employment():
    """Leave that starts before the employment is `leave_outside_employment`."""
    person = employee(
        employment(
            start="2026-01-01",
            leave=[{"kind": "foraldraledig", "start": "2025-12-01", "end": "2026-02-28"}],
        )
    )
    assert _codes(person) == [rules.LEAVE_OUTSIDE_EMPLOYMENT]


def test_severance_on_an_ongoing_employment():
    """Avgångsvederlag on an employment that has not ended is `severance_without_end`."""
    person = employee(employment(severance={"amount": 100000}))
    assert _codes(person) == [rules.SEVERANCE_WITHOUT_END]


def test_every_finding_is_reported_at_once():
    """All findings come together, so the HR officer fixes the record in one go."""
    person = employee(
        employment(id="A", end="2026-08-31", months=[month("2026-10", 10, 1000)]),
        employment(id="B", extent_percent=None, start="2027-01-01"),
    )
    error = _not_settled(person)
    assert error.codes == [
        rules.HOURS_OUTSIDE_EMPLOYMENT,
        rules.MISSING_END_REASON,
        rules.MISSING_EXTENT,
    ]
    assert error.as_dict()["exception"] == error.codes


def test_the_arbetsgivarintyg_is_refused_for_the_same_findings():
    """The arbetsgivarintyg applies the same checks as the anställningsintyg."""
    with pytest.raises(CertificateNotSettled) as raised:
        arbetsgivarintyg_content(
            employee(employment(end="2026-08-31")), employer=EMPLOYER, issued_on=ISSUED
        )
    assert rules.MISSING_END_REASON in raised.value.codes
