"""`rules.certificate_content`: the anställningsintyg's periods, positions, forms and extents."""

from datetime import date

import pytest

from flows.anstallningsintyg.rules import certificate_content
from tests.flows.anstallningsintyg.builders import EMPLOYER, employee, employment, month

ISSUED = date(2026, 12, 1)


def _content(*employments):
    return certificate_content(employee(*employments), employer=EMPLOYER, issued_on=ISSUED)


def test_ongoing_tillsvidare_has_no_last_day():
    """A tillsvidare employment without a last day is ongoing; the certificate has no last day."""
    content = _content(employment(start="2015-08-17", extent_percent=100))
    assert content["kind"] == "anstallningsintyg"
    assert content["issued_on"] == "2026-12-01"
    assert content["first_day"] == "2015-08-17"
    assert content["last_day"] is None
    [row] = content["employments"]
    assert row["form_label"] == "Tillsvidareanställning"
    assert (row["start"], row["end"], row["status"]) == ("2015-08-17", None, "ongoing")
    assert (row["extent_percent"], row["hours_per_week"]) == (100, 40.0)
    assert content["employer"]["organisation_number"] == "212000-9994"
    assert content["employee"]["personnummer"] == "199107152382"


@pytest.mark.parametrize(
    ("form", "label"),
    [
        ("provanstallning", "Provanställning"),
        ("allman_visstid", "Allmän visstidsanställning"),
        ("sarskild_visstid", "Särskild visstidsanställning"),
        ("vikariat", "Vikariat"),
    ],
)
def test_each_fixed_term_form_is_named(form, label):
    """Each employment form is printed by its Swedish name, with its period and extent."""
    start = "2020-03-01" if form == "allman_visstid" else "2025-03-01"
    content = _content(
        employment(
            form=form,
            start=start,
            end="2026-02-28",
            extent_percent=75,
            end_reason="visstid_upphorde",
        )
    )
    [row] = content["employments"]
    assert (row["form"], row["form_label"]) == (form, label)
    assert (row["start"], row["end"], row["status"]) == (start, "2026-02-28", "ended")
    assert row["extent_percent"] == 75
    assert row["hours_per_week"] == 30.0  # 40 h × 75 %
    assert content["last_day"] == "2026-02-28"


def test_timavlonad_states_hours_worked_instead_of_extent():
    """Hourly-paid work has no extent; the certificate gives the hours worked up to the issue date."""
    content = _content(
        employment(
            form="timavlonad",
            extent_percent=None,
            monthly_salary=None,
            hourly_rate=180,
            start="2026-01-01",
            months=[
                month("2026-01", 24.5, 4410),
                month("2026-03", 40, 7200),
                month("2026-11", 12.25, 2205),
            ],
        )
    )
    [row] = content["employments"]
    assert row["form_label"] == "Timavlönad (intermittent anställning)"
    assert row["extent_percent"] is None and row["hours_per_week"] is None
    assert row["hours_worked_total"] == 24.5 + 40 + 12.25  # 76.75


def test_several_periods_are_listed_oldest_first_with_the_last_day_of_the_last():
    """Several employments are listed by start date; first and last day span all of them."""
    content = _content(
        employment(
            id="B",
            form="tillsvidare",
            start="2022-01-01",
            end="2024-06-30",
            end_reason="egen_uppsagning",
            position="Kock",
        ),
        employment(
            id="A",
            form="vikariat",
            start="2019-05-01",
            end="2019-12-31",
            end_reason="visstid_upphorde",
            extent_percent=50,
        ),
    )
    assert [row["employment_id"] for row in content["employments"]] == ["A", "B"]
    assert content["first_day"] == "2019-05-01"
    assert content["last_day"] == "2024-06-30"
    assert content["employments"][0]["hours_per_week"] == 20.0


def test_fixed_term_ending_later_is_ongoing_with_its_agreed_last_day():
    """A fixed term that ends after the issue date is ongoing and shows its agreed last day."""
    content = _content(employment(form="sarskild_visstid", start="2026-01-07", end="2027-06-30"))
    [row] = content["employments"]
    assert (row["status"], row["end"]) == ("ongoing", "2027-06-30")
    assert content["last_day"] is None  # still employed: "är anställd"


def test_employment_that_has_not_begun_is_upcoming():
    """An employment agreed to start after the issue date is listed as upcoming."""
    content = _content(employment(start="2027-01-09"))
    assert content["employments"][0]["status"] == "upcoming"


def test_part_time_of_a_shorter_full_time_week():
    """Hours per week follow the employment's own full-time week (e.g. 38.25 h) × extent."""
    content = _content(employment(extent_percent=80, full_time_hours_per_week=38.25))
    assert content["employments"][0]["hours_per_week"] == 30.6  # 38.25 × 0.8
