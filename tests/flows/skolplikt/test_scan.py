"""The monthly scan, with figures worked by hand.

November 2026 has 21 school days (Mon–Fri): 2–6 (week 45), 9–13 (46), 16–20 (47), 23–27 (48)
and 30 (49). Each test day is scheduled 300 minutes, so a whole month is 6 300 minutes.
"""

import json
from datetime import date

import pytest

from flows.skolplikt.connectors.population import FilePopulationRegister
from flows.skolplikt.connectors.ss12000 import SS12000_INVALID, FileSs12000Source, Ss12000Error
from flows.skolplikt.report import PROTECTED_NAME, absence_report_data, redact_child, scan_list
from flows.skolplikt.scan import (
    HINT_HIGHEST_GRADE_COMPLETED,
    MISSING_PUPIL_ABSENT_FROM_REPORT,
    MISSING_SCHOOL_SILENT,
    REASON_ABSENCE,
    REASON_NOT_ENROLLED,
    REASON_PLACEMENT_GAP,
    REASON_REPORT_MISSING,
    scan,
)
from tests.flows.skolplikt.builders import (
    SCHOOL_A,
    SCHOOL_B,
    SCHOOL_FREE,
    child,
    day_record,
    enrolment,
    person,
    pnr,
    school_days,
    write_source,
)

NOV = school_days(date(2026, 11, 1), date(2026, 11, 30))
PUPIL = pnr("20150312")  # 11 years old in 2026, compulsory


def run(tmp_path, *, children, persons, attendance, month="2026-11"):
    write_source(tmp_path, children=children, persons=persons, attendance=attendance)
    return scan(
        month=month,
        register=FilePopulationRegister(tmp_path),
        ss12000=FileSs12000Source(tmp_path / "ss12000"),
    )


def full_month(pid, school, **absence):
    return [day_record(pid, school, d, **absence) for d in NOV]


def test_november_has_21_school_days():
    """The premise of the hand-worked figures."""
    assert len(NOV) == 21


def test_child_without_any_enrolment_is_not_enrolled(tmp_path):
    """A child of compulsory age unknown to every school is flagged not_enrolled."""
    result = run(tmp_path, children=[child(PUPIL)], persons=[], attendance=[])
    assert [c.reasons for c in result.flagged] == [(REASON_NOT_ENROLLED,)]
    assert result.flagged[0].compulsory_from == date(2021, 8, 1)
    assert result.ruleset_version == "skolplikt-2026-01"


def test_ended_cancelled_and_preschool_enrolments_do_not_count(tmp_path):
    """An enrolment ended in October, a cancelled one and a fritidshem one leave not_enrolled."""
    enrolments = [
        enrolment(SCHOOL_A, "2022-08-17", "2026-10-31"),
        enrolment(SCHOOL_B, "2026-11-02", cancelled=True),
        enrolment(SCHOOL_B, "2026-11-02", schoolType="FTH"),
    ]
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, enrolments)],
        attendance=full_month("p1", SCHOOL_B),
    )
    assert result.flagged[0].reasons == (REASON_NOT_ENROLLED,)


def test_children_outside_compulsory_age_are_not_checked(tmp_path):
    """Born 2010 (school ended June 2026), born 2021 (starts Aug 2027), deferred 2020: none."""
    children = [
        child(pnr("20100101")),
        child(pnr("20210101")),
        child(pnr("20200505"), uppskjuten_skolplikt=True),
    ]
    result = run(tmp_path, children=children, persons=[], attendance=[])
    assert result.flagged == ()
    assert result.children_registered == 3
    assert result.children_of_compulsory_age == 0


def test_six_year_old_becomes_compulsory_in_august_not_june(tmp_path):
    """A child born in 2020 with no school is flagged in August 2026, not in June 2026."""
    children = [child(pnr("20201231"))]
    assert (
        run(tmp_path, children=children, persons=[], attendance=[], month="2026-06").flagged == ()
    )
    august = run(tmp_path, children=children, persons=[], attendance=[], month="2026-08")
    assert august.flagged[0].reasons == (REASON_NOT_ENROLLED,)


def test_sixteen_year_old_is_checked_until_june(tmp_path):
    """A child born 1 Jan 2010 without school is flagged in June 2026, not in August."""
    children = [child(pnr("20100101"))]
    june = run(tmp_path, children=children, persons=[], attendance=[], month="2026-06")
    assert june.flagged[0].reasons == (REASON_NOT_ENROLLED,)
    assert (
        run(tmp_path, children=children, persons=[], attendance=[], month="2026-08").flagged == ()
    )


def test_july_is_not_checked(tmp_path):
    """The summer-holiday month flags nothing, not even a child enrolled nowhere."""
    result = run(tmp_path, children=[child(PUPIL)], persons=[], attendance=[], month="2026-07")
    assert result.checked is False
    assert result.flagged == ()


def test_children_of_other_municipalities_are_left_out(tmp_path):
    """A child folkbokförd elsewhere is the other municipality's to monitor."""
    result = run(
        tmp_path, children=[child(PUPIL, municipality_code="1280")], persons=[], attendance=[]
    )
    assert result.children_registered == 0
    assert result.flagged == ()


def test_full_attendance_is_not_flagged(tmp_path):
    """A pupil present all month at a reporting school is not flagged."""
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, [enrolment(SCHOOL_A, "2022-08-17")])],
        attendance=full_month("p1", SCHOOL_A),
    )
    assert result.flagged == ()
    assert result.children_of_compulsory_age == 1


def test_unexcused_ten_percent_flags_with_weekly_pattern(tmp_path):
    """30 unexcused minutes a day = 630/6300 = 10.0 %: flagged, 150 minutes a full week."""
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, [enrolment(SCHOOL_A, "2022-08-17")])],
        attendance=full_month("p1", SCHOOL_A, invalid=30),
    )
    flagged = result.flagged[0]
    a = flagged.absence
    assert flagged.reasons == (REASON_ABSENCE,)
    assert (a.scheduled_minutes, a.unexcused_minutes, a.absent_minutes) == (6300, 630, 630)
    assert (a.unexcused_percent, a.total_absence_percent) == ("10.0", "10.0")
    assert a.thresholds_met == ("unexcused_percent",)
    assert [(w.week, w.scheduled_minutes, w.unexcused_minutes) for w in a.weeks] == [
        ("2026-W45", 1500, 150),
        ("2026-W46", 1500, 150),
        ("2026-W47", 1500, 150),
        ("2026-W48", 1500, 150),
        ("2026-W49", 300, 30),
    ]
    assert a.unexcused_minutes_by_weekday == (150, 120, 120, 120, 120)  # five Mondays


def test_just_below_every_threshold_is_not_flagged(tmp_path):
    """29 unexcused (609/6300 = 9.7 %) and 30 excused a day (total 59 min = 19.7 %): nothing."""
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, [enrolment(SCHOOL_A, "2022-08-17")])],
        attendance=full_month("p1", SCHOOL_A, invalid=29, valid=30),
    )
    assert result.flagged == ()


def test_total_absence_twenty_percent_flags(tmp_path):
    """60 excused minutes a day = 1260/6300 = 20.0 % total: flagged, unexcused 0 %."""
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, [enrolment(SCHOOL_A, "2022-08-17")])],
        attendance=full_month("p1", SCHOOL_A, valid=60),
    )
    a = result.flagged[0].absence
    assert (a.valid_absence_minutes, a.total_absence_percent, a.unexcused_percent) == (
        1260,
        "20.0",
        "0.0",
    )
    assert a.thresholds_met == ("total_absence_percent",)


def test_three_whole_unexcused_days_flag_by_the_days_rule_alone(tmp_path):
    """Whole days need all offered time unexcused, summed over the day's activities.

    2, 3 and 4 Nov are short days (100 min) fully unexcused, 3 Nov split over two activities
    of 50 minutes; 5 Nov (100 min) misses by one minute; the other 17 days are 400 minutes.
    Scheduled 4×100 + 17×400 = 7 200, unexcused 399 = 5.5 %: only the days rule is met.
    """
    records = []
    for day in NOV:
        if day.day == 3:
            for activity in (f"act-{SCHOOL_A}", f"act-{SCHOOL_A}-2"):
                records.append(
                    day_record("p1", SCHOOL_A, day, invalid=50, offered=50, activity=activity)
                )
        elif day.day in (2, 4):
            records.append(day_record("p1", SCHOOL_A, day, invalid=100, offered=100))
        elif day.day == 5:
            records.append(day_record("p1", SCHOOL_A, day, invalid=99, offered=100))
        else:
            records.append(day_record("p1", SCHOOL_A, day, offered=400))
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, [enrolment(SCHOOL_A, "2022-08-17")])],
        attendance=records,
    )
    a = result.flagged[0].absence
    assert (a.scheduled_minutes, a.unexcused_minutes, a.unexcused_percent) == (7200, 399, "5.5")
    assert a.unexcused_whole_days == 3
    assert a.unexcused_whole_day_dates == (date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4))
    assert a.weeks[0].unexcused_whole_days == 3
    assert a.thresholds_met == ("unexcused_whole_days",)


def test_two_whole_days_alone_do_not_flag(tmp_path):
    """Two whole unexcused days in a long month: 600/6300 = 9.5 %, 2 days → not flagged."""
    records = [day_record("p1", SCHOOL_A, d, invalid=300 if d.day in (9, 10) else 0) for d in NOV]
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, [enrolment(SCHOOL_A, "2022-08-17")])],
        attendance=records,
    )
    assert result.flagged == ()


def test_partial_month_uses_only_scheduled_time_of_the_placement(tmp_path):
    """Enrolled from 16 Nov (11 school days, 3 300 min): 330 unexcused is 10 %, flagged.

    The pupil moved in on 16 Nov, so the days before are not a gap. Records the school holds
    for the pupil before the enrolment (2 Nov) are not counted.
    """
    records = [day_record("p1", SCHOOL_A, d, invalid=30) for d in NOV if d.day >= 16]
    records.append(day_record("p1", SCHOOL_A, NOV[0], invalid=300))
    result = run(
        tmp_path,
        children=[child(PUPIL, folkbokford_from="2026-11-16")],
        persons=[person("p1", PUPIL, [enrolment(SCHOOL_A, "2026-11-16")])],
        attendance=records,
    )
    flagged = result.flagged[0]
    assert flagged.reasons == (REASON_ABSENCE,)
    assert (flagged.absence.scheduled_minutes, flagged.absence.unexcused_minutes) == (3300, 330)
    assert flagged.placements[0].start == date(2026, 11, 16)


def test_partial_month_without_move_in_date_is_a_placement_gap(tmp_path):
    """Folkbokförd all month, enrolled from 16 Nov: 2–13 Nov (10 school days) is a gap."""
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, [enrolment(SCHOOL_A, "2026-11-16")])],
        attendance=[day_record("p1", SCHOOL_A, d) for d in NOV if d.day >= 16],
    )
    flagged = result.flagged[0]
    assert flagged.reasons == (REASON_PLACEMENT_GAP,)
    assert flagged.gap_school_days == tuple(d for d in NOV if d.day <= 13)


def test_school_change_over_a_weekend_sums_both_placements(tmp_path):
    """A until Fri 13 Nov (3 000 min, 450 unexcused = 15 %), B from Mon 16 (3 300, 150).

    The month is 600/6 300 = 9.5 %: not flagged, although A's part alone would be. No gap.
    """
    records = [day_record("p1", SCHOOL_A, d, invalid=45) for d in NOV if d.day <= 13]
    records += [
        day_record("p1", SCHOOL_B, d, invalid=150 if d.day == 16 else 0) for d in NOV if d.day >= 16
    ]
    enrolments = [
        enrolment(SCHOOL_A, "2022-08-17", "2026-11-13"),
        enrolment(SCHOOL_B, "2026-11-16"),
    ]
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, enrolments)],
        attendance=records,
    )
    assert result.flagged == ()


def test_school_change_figures_are_summed_when_flagged(tmp_path):
    """As above with 60 unexcused a day at A: 600 + 150 = 750/6300 = 11.9 %, both schools."""
    records = [day_record("p1", SCHOOL_A, d, invalid=60) for d in NOV if d.day <= 13]
    records += [
        day_record("p1", SCHOOL_B, d, invalid=150 if d.day == 16 else 0) for d in NOV if d.day >= 16
    ]
    enrolments = [
        enrolment(SCHOOL_A, "2022-08-17", "2026-11-13"),
        enrolment(SCHOOL_B, "2026-11-16"),
    ]
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, enrolments)],
        attendance=records,
    )
    a = result.flagged[0].absence
    assert (a.scheduled_minutes, a.unexcused_minutes, a.unexcused_percent) == (6300, 750, "11.9")
    assert a.schools_counted == (SCHOOL_A, SCHOOL_B)
    assert [s.name for s in result.flagged[0].schools] == ["A-skolan", "B-skolan"]


def test_a_week_between_schools_is_a_placement_gap(tmp_path):
    """A until 6 Nov, B from 16 Nov: 9–13 Nov (5 school days) is flagged placement_gap."""
    enrolments = [
        enrolment(SCHOOL_A, "2022-08-17", "2026-11-06"),
        enrolment(SCHOOL_B, "2026-11-16"),
    ]
    records = [day_record("p1", SCHOOL_A, d) for d in NOV if d.day <= 6]
    records += [day_record("p1", SCHOOL_B, d) for d in NOV if d.day >= 16]
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, enrolments)],
        attendance=records,
    )
    flagged = result.flagged[0]
    assert flagged.reasons == (REASON_PLACEMENT_GAP,)
    assert flagged.gap_school_days == tuple(date(2026, 11, d) for d in (9, 10, 11, 12, 13))
    assert flagged.absence.scheduled_minutes == 16 * 300


def test_four_days_between_schools_is_below_the_gap_threshold(tmp_path):
    """A until Mon 9 Nov, B from Mon 16: 10–13 Nov is 4 school days, not flagged."""
    enrolments = [
        enrolment(SCHOOL_A, "2022-08-17", "2026-11-09"),
        enrolment(SCHOOL_B, "2026-11-16"),
    ]
    records = [day_record("p1", SCHOOL_A, d) for d in NOV if d.day <= 9]
    records += [day_record("p1", SCHOOL_B, d) for d in NOV if d.day >= 16]
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, enrolments)],
        attendance=records,
    )
    assert result.flagged == ()


def test_independent_school_that_reported_nothing_is_report_missing(tmp_path):
    """A fristående school with no attendance at all: report_missing, never 'no absence'."""
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, [enrolment(SCHOOL_FREE, "2022-08-17")])],
        attendance=[],
    )
    flagged = result.flagged[0]
    assert flagged.reasons == (REASON_REPORT_MISSING,)
    assert flagged.absence is None
    assert flagged.missing_reports[0].why == MISSING_SCHOOL_SILENT
    assert flagged.missing_reports[0].school.independent is True
    assert [s.id for s in result.schools_without_report] == [SCHOOL_FREE]


def test_pupil_left_out_of_a_school_report_is_report_missing(tmp_path):
    """The school reported its other pupils but not this one: report_missing (pupil)."""
    other = pnr("20150313")
    result = run(
        tmp_path,
        children=[child(PUPIL), child(other)],
        persons=[
            person("p1", PUPIL, [enrolment(SCHOOL_A, "2022-08-17")]),
            person("p2", other, [enrolment(SCHOOL_A, "2022-08-17")]),
        ],
        attendance=full_month("p2", SCHOOL_A),
    )
    assert [c.personnummer for c in result.flagged] == [PUPIL]
    assert result.flagged[0].missing_reports[0].why == MISSING_PUPIL_ABSENT_FROM_REPORT
    assert result.flagged[0].missing_reports[0].school.independent is False
    assert result.schools_without_report == ()


def test_move_to_a_silent_school_keeps_figures_of_the_reporting_one(tmp_path):
    """A (reports, 60 unexcused/day to 13 Nov = 600/3000) then a silent independent school.

    Both report_missing and absence (20 % of the reported 3 000 minutes) are flagged; the
    figures state they cover A only.
    """
    enrolments = [
        enrolment(SCHOOL_A, "2022-08-17", "2026-11-13"),
        enrolment(SCHOOL_FREE, "2026-11-16"),
    ]
    records = [day_record("p1", SCHOOL_A, d, invalid=60) for d in NOV if d.day <= 13]
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, enrolments)],
        attendance=records,
    )
    flagged = result.flagged[0]
    assert flagged.reasons == (REASON_ABSENCE, REASON_REPORT_MISSING)
    assert (flagged.absence.scheduled_minutes, flagged.absence.unexcused_percent) == (3000, "20.0")
    assert flagged.absence.schools_counted == (SCHOOL_A,)
    assert flagged.missing_reports[0].start == date(2026, 11, 16)


def test_protected_child_is_marked_and_redacted_from_lists(tmp_path):
    """Protected in the register or in SS 12000: protected=True; the list shows no name."""
    second = pnr("20150313")
    result = run(
        tmp_path,
        children=[
            child(PUPIL, "Hemlig Person", skyddad_identitet=True),
            child(second, "Annan Hemlig"),
        ],
        persons=[
            person(
                "p2", second, [enrolment(SCHOOL_A, "2022-08-17")], marking="Skyddad folkbokföring"
            )
        ],
        attendance=full_month("p2", SCHOOL_A, invalid=100),
    )
    assert [c.protected for c in result.flagged] == [True, True]
    printable = json.dumps(scan_list(result), ensure_ascii=False)
    for secret in (
        "Hemlig Person",
        "Annan Hemlig",
        "Testgatan",
        "Vårdnadshavare Ett",
        PUPIL,
        second,
        "p2",
    ):
        assert secret not in printable
    assert printable.count(PROTECTED_NAME) >= 2
    assert "20150312-****" in printable


def test_redaction_leaves_unprotected_children_as_they_are(tmp_path):
    """An unprotected child keeps name and address in the list."""
    result = run(tmp_path, children=[child(PUPIL, "Synlig Person")], persons=[], attendance=[])
    entry = result.as_dict()["flagged"][0]
    assert redact_child(entry) == entry
    assert entry["name"] == "Synlig Person"


def test_absence_report_data_has_pattern_actions_and_earlier_cases(tmp_path):
    """The draft report carries weeks, weekday pattern, the school's actions and history."""
    records = [day_record("p1", SCHOOL_A, d, invalid=300 if d.weekday() == 0 else 0) for d in NOV]
    result = run(
        tmp_path,
        children=[child(PUPIL)],
        persons=[person("p1", PUPIL, [enrolment(SCHOOL_A, "2022-08-17")])],
        attendance=records,
    )
    report = absence_report_data(
        result.flagged[0],
        result=result,
        school_actions=[
            {"date": "2026-11-20", "school": "A-skolan", "action": "Elevhälsomöte"},
            {"date": "2026-11-10", "school": "A-skolan", "action": "Samtal hem"},
        ],
        earlier_cases=[{"reference": "BSN 2026/12", "month": "2026-03", "outcome": "closed"}],
    )
    assert report["figures"]["unexcused_whole_days"] == 5  # five Mondays
    assert report["figures"]["unexcused_minutes"] == 1500
    assert report["pattern_by_weekday"][0] == {"weekday": "måndag", "unexcused_minutes": 1500}
    assert report["pattern_by_weekday"][1]["unexcused_minutes"] == 0
    assert [w["unexcused_whole_days"] for w in report["pattern_by_week"]] == [1, 1, 1, 1, 1]
    assert [a["action"] for a in report["school_actions"]] == ["Samtal hem", "Elevhälsomöte"]
    assert report["earlier_cases"][0]["reference"] == "BSN 2026/12"
    assert report["ruleset_version"] == "skolplikt-2026-01"
    assert report["reason_labels"] == ["Frånvaro över tröskelvärdet"]


def test_enrolment_at_an_unknown_school_unit_is_an_error(tmp_path):
    """An enrolment naming a school unit missing from organisations is SS12000_INVALID."""
    with pytest.raises(Ss12000Error) as info:
        run(
            tmp_path,
            children=[child(PUPIL)],
            persons=[person("p1", PUPIL, [enrolment("school-x", "2022-08-17")])],
            attendance=[],
        )
    assert info.value.code == SS12000_INVALID


def test_child_who_left_grade_9_in_june_is_still_flagged_with_a_hint(tmp_path):
    """Born 2011 (compulsory until June 2027), grade 9 ended 12 June 2026: not_enrolled in
    November, with a hint that the highest grade was probably completed (7 kap. 14 §)."""
    number = pnr("20110505")
    enrolments = [enrolment(SCHOOL_A, "2017-08-17", "2026-06-12", schoolYear=9)]
    result = run(
        tmp_path,
        children=[child(number)],
        persons=[person("p1", number, enrolments)],
        attendance=[],
    )
    flagged = result.flagged[0]
    assert flagged.reasons == (REASON_NOT_ENROLLED,)
    assert flagged.hints == (HINT_HIGHEST_GRADE_COMPLETED,)


def test_grade_8_enrolment_ending_gives_no_hint(tmp_path):
    """A grade-8 enrolment that ended in June gives not_enrolled without the hint."""
    enrolments = [enrolment(SCHOOL_A, "2017-08-17", "2026-06-12", schoolYear=8)]
    result = run(
        tmp_path, children=[child(PUPIL)], persons=[person("p1", PUPIL, enrolments)], attendance=[]
    )
    assert result.flagged[0].hints == ()
