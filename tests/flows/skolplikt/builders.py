"""Small hand-made SS 12000 and register data for the skolplikt tests (synthetic people)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from municipality.personnummer import luhn_check_digit

HOME = "1281"
MUNICIPAL = "org-kommun"
INDEPENDENT_PRINCIPAL = "org-friskola-ab"
SCHOOL_A = "school-a"
SCHOOL_B = "school-b"
SCHOOL_FREE = "school-free"
DAY = 300  # scheduled minutes per school day in these tests


def pnr(birth: str, serial: str = "981") -> str:
    """A synthetic personnummer with a valid check digit."""
    return f"{birth}{serial}{luhn_check_digit(birth[2:] + serial)}"


def organisations() -> list[dict]:
    return [
        {
            "id": MUNICIPAL,
            "displayName": "Testkommun",
            "organisationType": "Huvudman",
            "organisationNumber": "2120009999",
        },
        {
            "id": INDEPENDENT_PRINCIPAL,
            "displayName": "Testfriskolor AB",
            "organisationType": "Huvudman",
            "organisationNumber": "5599999999",
        },
        {
            "id": SCHOOL_A,
            "displayName": "A-skolan",
            "organisationType": "Skolenhet",
            "schoolUnitCode": "11110001",
            "schoolTypes": ["GR"],
            "parentOrganisation": {"id": MUNICIPAL},
        },
        {
            "id": SCHOOL_B,
            "displayName": "B-skolan",
            "organisationType": "Skolenhet",
            "schoolUnitCode": "11110002",
            "schoolTypes": ["GR"],
            "parentOrganisation": {"id": MUNICIPAL},
        },
        {
            "id": SCHOOL_FREE,
            "displayName": "Friskolan",
            "organisationType": "Skolenhet",
            "schoolUnitCode": "11110003",
            "schoolTypes": ["GR"],
            "parentOrganisation": {"id": INDEPENDENT_PRINCIPAL},
        },
    ]


def activities() -> list[dict]:
    return [
        {"id": f"act-{school}", "organisation": {"id": school}}
        for school in (SCHOOL_A, SCHOOL_B, SCHOOL_FREE)
    ] + [{"id": f"act-{SCHOOL_A}-2", "organisation": {"id": SCHOOL_A}}]


def enrolment(school: str, start: str, end: str | None = None, **extra) -> dict:
    body = {"enroledAt": {"id": school}, "schoolType": "GR", "schoolYear": 5, "startDate": start}
    if end:
        body["endDate"] = end
    return {**body, **extra}


def person(pid: str, number: str, enrolments: list[dict], marking: str = "Ingen") -> dict:
    return {
        "id": pid,
        "givenName": "Test",
        "familyName": pid,
        "securityMarking": marking,
        "civicNo": {"value": number},
        "enrolments": enrolments,
    }


def school_days(start: date, end: date) -> list[date]:
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(1)
    return days


def day_record(pid: str, school: str, day: date, *, valid=0, invalid=0, offered=DAY, activity=None):
    return {
        "activity": {"id": activity or f"act-{school}"},
        "student": {"id": pid},
        "startDate": day.isoformat(),
        "endDate": day.isoformat(),
        "attendanceSum": offered - valid - invalid,
        "validAbsenceSum": valid,
        "invalidAbsenceSum": invalid,
        "reportedSum": offered,
        "offeredSum": offered,
    }


def child(number: str, name: str = "Test Barn", **extra) -> dict:
    body = {
        "personnummer": number,
        "name": name,
        "municipality_code": HOME,
        "address": {"street": "Testgatan 1", "postal_code": "999 99", "locality": "Teststad"},
        "guardians": [
            {
                "personnummer": pnr("19800101", "982"),
                "name": "Vårdnadshavare Ett",
                "address": {
                    "street": "Testgatan 1",
                    "postal_code": "999 99",
                    "locality": "Teststad",
                },
            }
        ],
    }
    return {**body, **extra}


def write_source(
    directory: Path,
    *,
    children: list[dict],
    persons: list[dict],
    attendance: list[dict],
    orgs: list[dict] | None = None,
) -> Path:
    """Write a source directory in the shipped layout and return it."""
    (directory / "ss12000").mkdir(parents=True, exist_ok=True)
    files = {
        "organisations.json": orgs if orgs is not None else organisations(),
        "persons.json": persons,
        "activities.json": activities(),
        "aggregatedAttendance.json": attendance,
    }
    for name, data in files.items():
        (directory / "ss12000" / name).write_text(json.dumps({"data": data}), encoding="utf-8")
    (directory / "folkbokforing.json").write_text(
        json.dumps({"municipality_code": HOME, "children": children}), encoding="utf-8"
    )
    return directory
