"""Content for people: the drafted absence report and the redacted printable list.

Protected identity (skyddade personuppgifter) must not appear in lists for staff without the
need: ``redact_child`` removes the child's and the guardians' names and addresses and masks
the personnummer for a protected child, and the printable list is only ever made from
redacted entries. The caseworker who opens the case sees the full record through the case's
own access checks (phase 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from flows.skolplikt.scan import FlaggedChild, ScanResult, _jsonable
from municipality.personnummer import parse_personnummer

PROTECTED_NAME = "Skyddad identitet"
HINT_LABELS_SV = {
    "highest_grade_probably_completed": (
        "Obs: har troligen gått ut högsta årskursen (skolplikten upphör då, 7 kap. 14 § "
        "skollagen); kontrollera med skolan"
    ),
}
WEEKDAYS_SV = ("måndag", "tisdag", "onsdag", "torsdag", "fredag")

REASON_LABELS_SV = {
    "not_enrolled": "Inte inskriven i någon skola",
    "placement_gap": "Dagar utan placering",
    "absence": "Frånvaro över tröskelvärdet",
    "report_missing": "Skolans närvarorapport saknas",
}


def redact_child(child: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a flagged child (``as_dict`` form) safe for a list.

    For a protected child: name and address are removed, the personnummer is masked to
    ``YYYYMMDD-****``, the guardians are reduced to their number, the SS 12000 id is dropped
    (it would let a reader look the child up in a school system) and so are the schools.
    """
    result = dict(child)
    if not child.get("protected"):
        return result
    result["name"] = PROTECTED_NAME
    result["address"] = None
    result["personnummer"] = parse_personnummer(child["personnummer"]).mask()
    result["guardians"] = [{"name": PROTECTED_NAME, "address": None} for _ in child["guardians"]]
    result["ss12000_person_id"] = None
    # The school a protected child attends tells where the child is: left out as well.
    result["placements"] = [
        {**p, "school": _redacted_school(p["school"])} for p in child["placements"]
    ]
    result["missing_reports"] = [
        {**m, "school": _redacted_school(m["school"])} for m in child["missing_reports"]
    ]
    if child.get("absence"):
        result["absence"] = {**child["absence"], "schools_counted": []}
    return result


def _redacted_school(school: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": None,
        "name": PROTECTED_NAME,
        "school_unit_code": None,
        "principal": None,
        "independent": school["independent"],
    }


def scan_list(result: ScanResult) -> dict[str, Any]:
    """Return the scan as printable, redacted data (what the command prints)."""
    data = result.as_dict()
    data["flagged"] = [redact_child(c) for c in data["flagged"]]
    return data


def _weekday_pattern(absence: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not absence:
        return []
    return [
        {"weekday": WEEKDAYS_SV[i], "unexcused_minutes": minutes}
        for i, minutes in enumerate(absence["unexcused_minutes_by_weekday"])
    ]


def absence_report_data(
    child: FlaggedChild,
    *,
    result: ScanResult,
    school_actions: Iterable[dict[str, Any]] = (),
    earlier_cases: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Return the data a drafted absence report (frånvarorapport) is written from.

    ``school_actions`` are the school's own reported measures (SS 12000 has no resource for
    them; the school sends them with its report or the caseworker enters them), each
    ``{"date", "school", "action"}``. ``earlier_cases`` are the municipality's earlier
    skolplikt cases for the child (``{"reference", "month", "outcome"}``), passed in by the
    caller because the case history lives in the core, not in the sources.

    This is case material, shown only inside the case: it is not redacted.
    """
    return report_from_entry(
        _jsonable(asdict(child)),
        month=result.month,
        ruleset_version=result.ruleset_version,
        thresholds=result.thresholds,
        school_actions=school_actions,
        earlier_cases=earlier_cases,
    )


def report_from_entry(
    entry: dict[str, Any],
    *,
    month: str,
    ruleset_version: str,
    thresholds: dict[str, Any],
    school_actions: Iterable[dict[str, Any]] = (),
    earlier_cases: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The absence report from a flagged child in its JSON form (as a case stores it).

    The same data as ``absence_report_data``; the case keeps the finding as JSON, so the
    flow and the case page build the report from that without scanning again.
    """
    schools: dict[str, dict[str, Any]] = {}
    for placement in entry["placements"]:
        schools.setdefault(placement["school"]["id"], placement["school"])
    absence = entry.get("absence")
    return {
        "month": month,
        "ruleset_version": ruleset_version,
        "thresholds": thresholds,
        "child": {
            "personnummer": entry["personnummer"],
            "name": entry["name"],
            "protected": entry["protected"],
            "compulsory_from": entry["compulsory_from"],
            "compulsory_until": entry["compulsory_until"],
        },
        "reasons": list(entry["reasons"]),
        "reason_labels": [REASON_LABELS_SV[r] for r in entry["reasons"]],
        "hint_labels": [HINT_LABELS_SV[h] for h in entry.get("hints", [])],
        "schools": list(schools.values()),
        "placements": entry["placements"],
        "figures": absence,
        "pattern_by_week": absence["weeks"] if absence else [],
        "pattern_by_weekday": _weekday_pattern(absence),
        "missing_reports": entry["missing_reports"],
        "gap_school_days": entry["gap_school_days"],
        "school_actions": sorted(
            (dict(a) for a in school_actions), key=lambda a: str(a.get("date", ""))
        ),
        "earlier_cases": [dict(c) for c in earlier_cases],
        "guardians": entry["guardians"],
    }
