"""iCalendar (RFC 5545) of one person's approved shifts, for publication per person.

Times are written as local times with ``TZID=Europe/Stockholm`` and the calendar carries the
matching VTIMEZONE (RFC 5545 3.6.5), so a phone shows 07:00 whatever its own zone and the
March and October changeovers come out right. Each event's UID is derived from the person
and the shift's times, so publishing the same roster again updates events instead of
duplicating them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from icalendar import Calendar, Event

from .clock import STOCKHOLM, from_ts, to_ts

PRODID = "-//Robotfabrik//Schemaläggning//SV"
UID_NAMESPACE = uuid.UUID("5b1f7a52-6c1e-4d0b-9a57-7d2c1f1e0a11")
UID_DOMAIN = "schemalaggning.robotfabrik.example"
SHIFT_LABELS = {"morning": "Dagpass", "evening": "Kvällspass", "night": "Nattpass"}


def shift_uid(staff_id: str, start: str, end: str) -> str:
    """Return the stable UID of one shift of one person."""
    return f"{uuid.uuid5(UID_NAMESPACE, f'{staff_id}|{start}|{end}')}@{UID_DOMAIN}"


def roster_ics(
    staff_id: str,
    shifts: list[dict],
    *,
    calendar_name: str | None = None,
    dtstamp: datetime | None = None,
) -> bytes:
    """Return the iCalendar file of ``staff_id``'s shifts (dicts in the roster ``shifts`` shape).

    Shifts of other people are left out. ``dtstamp`` (when the roster was published, UTC)
    defaults to now; pass it to get byte-identical files for the same roster.
    """
    stamp = (dtstamp or datetime.now(UTC)).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calendar_name or f"Arbetsschema {staff_id}")
    cal.add("x-wr-timezone", "Europe/Stockholm")
    mine = [s for s in shifts if s["staff"] == staff_id]
    mine.sort(key=lambda s: (str(s["start"]), str(s["end"])))
    for shift in mine:
        start = from_ts(to_ts(datetime.fromisoformat(str(shift["start"]))))
        end = from_ts(to_ts(datetime.fromisoformat(str(shift["end"]))))
        event = Event()
        event.add("uid", shift_uid(staff_id, str(shift["start"]), str(shift["end"])))
        event.add("dtstamp", stamp)
        event.add("dtstart", start.astimezone(STOCKHOLM))
        event.add("dtend", end.astimezone(STOCKHOLM))
        label = SHIFT_LABELS.get(shift.get("shift") or "", "Arbetspass")
        event.add("summary", label)
        if shift.get("need"):
            event.add("description", f"Behov {shift['need']}")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
