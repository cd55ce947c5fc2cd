"""iCalendar export per person: parsed back with the icalendar package."""

from datetime import UTC, datetime

from icalendar import Calendar

from flows.schemalaggning.ics import roster_ics, shift_uid

SHIFTS = [
    {"staff": "s1", "start": "2026-10-24T21:45", "end": "2026-10-25T07:15", "shift": "night",
     "need": "2026-10-24/night/1"},
    {"staff": "s1", "start": "2026-03-28T21:45", "end": "2026-03-29T07:15", "shift": "night"},
    {"staff": "s1", "start": "2026-12-07T07:00", "end": "2026-12-07T15:30", "shift": "morning"},
    {"staff": "s2", "start": "2026-12-07T07:00", "end": "2026-12-07T15:30", "shift": "morning"},
]  # fmt: skip
STAMP = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def events(data: bytes):
    return list(Calendar.from_ical(data).walk("VEVENT"))


def test_one_event_per_shift_of_that_person_only():
    """s1 gets three events; s2's shift is not in s1's calendar."""
    assert len(events(roster_ics("s1", SHIFTS, dtstamp=STAMP))) == 3
    assert len(events(roster_ics("s2", SHIFTS, dtstamp=STAMP))) == 1


def test_times_carry_the_stockholm_tzid_and_a_vtimezone():
    """DTSTART has TZID=Europe/Stockholm and the calendar defines that VTIMEZONE."""
    data = roster_ics("s1", SHIFTS, dtstamp=STAMP)
    assert b"DTSTART;TZID=Europe/Stockholm:20261207T070000" in data
    cal = Calendar.from_ical(data)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Stockholm"]


def test_nights_over_the_clock_changes_last_their_real_length():
    """Read back, the October night lasts 10.5 h and the March night 8.5 h in real time."""
    lengths = {}
    for event in events(roster_ics("s1", SHIFTS, dtstamp=STAMP)):
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        lengths[start.date().isoformat()] = (end.timestamp() - start.timestamp()) / 3600
    assert lengths == {"2026-10-24": 10.5, "2026-03-28": 8.5, "2026-12-07": 8.5}


def test_uids_are_stable_and_distinct():
    """The same roster gives the same UIDs (and bytes, given the stamp); shifts differ."""
    first = roster_ics("s1", SHIFTS, dtstamp=STAMP)
    assert first == roster_ics("s1", list(reversed(SHIFTS)), dtstamp=STAMP)
    uids = [str(e["UID"]) for e in events(first)]
    assert len(set(uids)) == 3
    assert shift_uid("s1", "2026-12-07T07:00", "2026-12-07T15:30") in uids
    assert shift_uid("s2", "2026-12-07T07:00", "2026-12-07T15:30") not in uids


def test_summary_names_the_shift_and_the_calendar_the_person():
    """Swedish shift labels; X-WR-CALNAME names the person; RFC 5545 required properties."""
    cal = Calendar.from_ical(roster_ics("s1", SHIFTS, dtstamp=STAMP, calendar_name="Aino A."))
    assert str(cal["X-WR-CALNAME"]) == "Aino A." and str(cal["VERSION"]) == "2.0"
    assert "PRODID" in cal
    assert sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT")) == [
        "Dagpass", "Nattpass", "Nattpass"
    ]  # fmt: skip
    assert all("DTSTAMP" in e for e in cal.walk("VEVENT"))
