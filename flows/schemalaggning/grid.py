"""The roster as the manager's grid (staff × days): content for the material and the edit page.

Pure data for a template: each cell holds the person's shifts starting that day (with their
index in ``shifts``, for the edit buttons) and the rules broken there; rules about a whole
period (weekly rest, the average week, night work, the contract) are listed on the row.
"""

from __future__ import annotations

from datetime import date, datetime

from .clock import days as days_between
from .roster import roster_build
from .rules import DAILY_REST, check_built, roster_summary

# Rules whose breach belongs to a day (marked in the cell) rather than to a period.
DAY_RULES = (DAILY_REST, "overlap", "leave", "competence")


def roster_grid(roster: dict, verdict: dict | None = None) -> dict:
    """Return ``{"days", "rows", "uncovered_by_day", "breach_count"}`` for ``roster``."""
    built = roster_build(roster)
    verdict = verdict if verdict is not None else check_built(built)
    days = days_between(built.period_start, built.period_end)
    summary = roster_summary(built)
    names = {s.id: s.name for s in built.source.staff}
    rows = []
    for sid, person in built.staff.items():
        cells: dict[date, dict] = {
            d: {"date": d.isoformat(), "shifts": [], "breaches": []} for d in days
        }
        rows.append(
            {
                "staff": sid,
                "name": names.get(sid) or sid,
                "roles": sorted(person.roles),
                "competences": sorted(person.competences),
                "cells": cells,
                "period_breaches": [],
                "summary": summary[sid],
            }
        )
    by_staff = {row["staff"]: row for row in rows}
    for index, shift in enumerate(roster.get("shifts", [])):
        start = datetime.fromisoformat(str(shift["start"]))
        cell = by_staff[shift["staff"]]["cells"].get(start.date())
        if cell is None:
            continue
        cell["shifts"].append(
            {
                "index": index,
                "start": start.strftime("%H:%M"),
                "end": datetime.fromisoformat(str(shift["end"])).strftime("%H:%M"),
                "shift": shift.get("shift"),
                "need": shift.get("need"),
            }
        )
    for breach in verdict["breaches"]:
        row = by_staff[breach["staff"]]
        if breach["rule"] in DAY_RULES:
            cell = row["cells"].get(date.fromisoformat(breach["start"][:10]))
            if cell is not None:
                cell["breaches"].append(breach)
                continue
        row["period_breaches"].append(breach)
    uncovered: dict[str, list] = {d.isoformat(): [] for d in days}
    for item in verdict["uncovered"]:
        uncovered.setdefault(item["date"], []).append(item)
    for row in rows:
        row["cells"] = [row["cells"][d] for d in days]
    return {
        "days": [d.isoformat() for d in days],
        "rows": rows,
        "uncovered_by_day": uncovered,
        "breach_count": len(verdict["breaches"]),
    }
