"""Writes the synthetic demo data of the skolplikt robot (run by hand; output is committed).

    .venv/bin/python data/skolplikt/make_demo.py

Synthetic people only: every personnummer here is generated (valid date, serial 98x, Luhn
check digit computed); none is known to be a real person's. See README.md for who is who.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from municipality.personnummer import luhn_check_digit  # noqa: E402

MONTH_START, MONTH_END = date(2026, 11, 1), date(2026, 11, 30)
DAY_MINUTES = 300
HOME = "1281"


def pnr(birth: str, serial: str) -> str:
    nine = birth[2:] + serial
    return f"{birth}{serial}{luhn_check_digit(nine)}"


def address(street: str) -> dict:
    return {"street": street, "postal_code": "999 99", "locality": "Exempelstad"}


def meta() -> dict:
    return {"created": "2026-08-01T06:00:00Z", "modified": "2026-11-30T18:00:00Z"}


ORG = {
    "kommun": "7b0f0b8e-0000-4000-8000-000000000001",
    "friskola_ab": "7b0f0b8e-0000-4000-8000-000000000002",
    "norr": "7b0f0b8e-0000-4000-8000-000000000011",
    "soder": "7b0f0b8e-0000-4000-8000-000000000012",
    "larkan": "7b0f0b8e-0000-4000-8000-000000000013",
}
organisations = [
    {
        "id": ORG["kommun"],
        "meta": meta(),
        "displayName": "Exempelkommun, barn- och skolnämnden",
        "organisationType": "Huvudman",
        "organisationNumber": "2120009999",
        "municipalityCode": HOME,
    },
    {
        "id": ORG["friskola_ab"],
        "meta": meta(),
        "displayName": "Lärkan Utbildning AB",
        "organisationType": "Huvudman",
        "organisationNumber": "5599999999",
    },
    {
        "id": ORG["norr"],
        "meta": meta(),
        "displayName": "Norrskolan",
        "organisationType": "Skolenhet",
        "schoolUnitCode": "99990001",
        "schoolTypes": ["FKLASS", "GR"],
        "municipalityCode": HOME,
        "parentOrganisation": {"id": ORG["kommun"]},
    },
    {
        "id": ORG["soder"],
        "meta": meta(),
        "displayName": "Söderskolan",
        "organisationType": "Skolenhet",
        "schoolUnitCode": "99990002",
        "schoolTypes": ["GR"],
        "municipalityCode": HOME,
        "parentOrganisation": {"id": ORG["kommun"]},
    },
    {
        "id": ORG["larkan"],
        "meta": meta(),
        "displayName": "Lärkans friskola",
        "organisationType": "Skolenhet",
        "schoolUnitCode": "99990003",
        "schoolTypes": ["FKLASS", "GR"],
        "municipalityCode": HOME,
        "parentOrganisation": {"id": ORG["friskola_ab"]},
    },
]
activities = [
    {
        "id": f"act-{key}",
        "meta": meta(),
        "displayName": f"Undervisning {name}",
        "organisation": {"id": ORG[key]},
    }
    for key, name in (
        ("norr", "Norrskolan"),
        ("soder", "Söderskolan"),
        ("larkan", "Lärkans friskola"),
    )
]

# key, given, family, birth, serial, register extras, enrolments [(school, type, year, start, end)],
# absence(day) -> (valid, invalid) minutes
CHILDREN = [
    ("alva", "Alva", "Ek", "20150312", "981", {}, [("norr", "GR", 5, "2022-08-17", None)], None),
    (
        "bo",
        "Bo",
        "Lind",
        "20140521",
        "982",
        {},
        [("norr", "GR", 6, "2021-08-17", None)],
        lambda d: (0, 40),
    ),
    (
        "cleo",
        "Cleo",
        "Ström",
        "20130902",
        "983",
        {},
        [("soder", "GR", 7, "2020-08-17", None)],
        lambda d: (0, 300) if d.weekday() == 0 and d.day in (9, 16, 23) else (0, 0),
    ),
    (
        "dana",
        "Dana",
        "Falk",
        "20141130",
        "984",
        {},
        [("soder", "GR", 6, "2021-08-17", None)],
        lambda d: (70, 0),
    ),
    ("elias", "Elias", "Berg", "20190415", "985", {}, [], None),
    ("fanny", "Fanny", "Holm", "20201228", "986", {}, [], None),
    ("gustav", "Gustav", "Nyström", "20100101", "987", {}, [], None),
    (
        "hugo",
        "Hugo",
        "Sand",
        "20120607",
        "988",
        {},
        [("norr", "GR", 8, "2019-08-19", "2026-11-13"), ("soder", "GR", 8, "2026-11-16", None)],
        lambda d: (30, 0) if d.day == 3 else (0, 0),
    ),
    (
        "ines",
        "Ines",
        "Vik",
        "20160819",
        "989",
        {},
        [("larkan", "GR", 4, "2023-08-17", None)],
        lambda d: (0, 0),
    ),
    (
        "juni",
        "Juni",
        "Åberg",
        "20110223",
        "991",
        {"skyddad_identitet": True},
        [("soder", "GR", 9, "2017-08-17", None)],
        lambda d: (0, 120) if d.weekday() in (3, 4) else (0, 0),
    ),
    (
        "kim",
        "Kim",
        "Dahl",
        "20170310",
        "992",
        {},
        [("norr", "GR", 3, "2023-08-17", "2026-11-06")],
        lambda d: (0, 0),
    ),
    ("liv", "Liv", "Mark", "20160101", "993", {"municipality_code": "1280"}, [], None),
    ("max", "Max", "Rask", "20200505", "994", {"uppskjuten_skolplikt": True}, [], None),
]
GUARDIANS = {
    "alva": [("Anders Ek", "19800101", "981")],
    "bo": [("Britt Lind", "19820202", "982"), ("Bengt Lind", "19810303", "983")],
    "cleo": [("Carin Ström", "19830404", "984")],
    "dana": [("David Falk", "19840505", "985"), ("Dora Falk", "19850606", "986")],
    "elias": [("Eva Berg", "19860707", "987"), ("Emil Berg", "19870808", "988")],
    "fanny": [("Frida Holm", "19880909", "989")],
    "gustav": [("Gun Nyström", "19791010", "981")],
    "hugo": [("Hanna Sand", "19801111", "982")],
    "ines": [("Isak Vik", "19811212", "983"), ("Irma Vik", "19820115", "984")],
    "juni": [("Jonna Åberg", "19830216", "985")],
    "kim": [("Karl Dahl", "19840317", "986")],
    "liv": [("Lars Mark", "19850418", "987")],
    "max": [("Mia Rask", "19860519", "988")],
}


def person_id(key: str) -> str:
    """A stable UUID-shaped id made from the key (hex of its letters)."""
    return "5c1d0000-0000-4000-8000-" + key.encode().hex().ljust(12, "0")[:12]


def school_days() -> list[date]:
    day, days = MONTH_START, []
    while day <= MONTH_END:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(1)
    return days


def main() -> None:
    children, persons, attendance = [], [], []
    for n, (key, given, family, birth, serial, extra, enrolments, absence) in enumerate(CHILDREN):
        number = pnr(birth, serial)
        home = address(f"Exempelgatan {n + 1}")
        guardians = [
            {"personnummer": pnr(b, s), "name": name, "address": home}
            for name, b, s in GUARDIANS[key]
        ]
        children.append(
            {
                "personnummer": number,
                "name": f"{given} {family}",
                "municipality_code": extra.get("municipality_code", HOME),
                "address": None if extra.get("skyddad_identitet") else home,
                "folkbokford_from": None,
                "skyddad_identitet": extra.get("skyddad_identitet", False),
                "uppskjuten_skolplikt": extra.get("uppskjuten_skolplikt", False),
                "guardians": guardians,
            }
        )
        if extra.get("skyddad_identitet"):
            children[-1]["guardians"] = [
                {"personnummer": g["personnummer"], "name": g["name"], "address": None}
                for g in guardians
            ]
        if not enrolments:
            continue
        persons.append(
            {
                "id": person_id(key),
                "meta": meta(),
                "givenName": given,
                "familyName": family,
                "civicNo": {"value": number, "nationality": "SE"},
                "securityMarking": "Skyddad folkbokföring"
                if extra.get("skyddad_identitet")
                else "Ingen",
                "enrolments": [
                    {
                        "enroledAt": {"id": ORG[school]},
                        "schoolType": kind,
                        "schoolYear": year,
                        "startDate": start,
                        **({"endDate": end} if end else {}),
                    }
                    for school, kind, year, start, end in enrolments
                ],
            }
        )
        for school, _, _, start, end in enrolments:
            if school == "larkan":
                continue  # the independent school sends nothing for November
            first, last = date.fromisoformat(start), date.fromisoformat(end or "9999-12-31")
            for day in school_days():
                if not first <= day <= last:
                    continue
                valid, invalid = (absence or (lambda d: (0, 0)))(day)
                attendance.append(
                    {
                        "activity": {"id": f"act-{school}"},
                        "student": {"id": person_id(key)},
                        "startDate": day.isoformat(),
                        "endDate": day.isoformat(),
                        "attendanceSum": DAY_MINUTES - valid - invalid,
                        "validAbsenceSum": valid,
                        "invalidAbsenceSum": invalid,
                        "otherAttendanceSum": 0,
                        "reportedSum": DAY_MINUTES,
                        "offeredSum": DAY_MINUTES,
                    }
                )
    # A pupil from another municipality at Norrskolan: not ours to monitor.
    persons.append(
        {
            "id": person_id("other"),
            "meta": meta(),
            "givenName": "Otto",
            "familyName": "Utsocken",
            "civicNo": {"value": pnr("20140707", "995"), "nationality": "SE"},
            "securityMarking": "Ingen",
            "enrolments": [
                {
                    "enroledAt": {"id": ORG["norr"]},
                    "schoolType": "GR",
                    "schoolYear": 6,
                    "startDate": "2021-08-17",
                }
            ],
        }
    )

    def write(path: Path, body: dict) -> None:
        path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    write(
        HERE / "folkbokforing.json",
        {
            "about": "Synthetic people only. See README.md.",
            "municipality_code": HOME,
            "children": children,
        },
    )
    write(HERE / "ss12000" / "organisations.json", {"data": organisations, "pageToken": None})
    write(HERE / "ss12000" / "persons.json", {"data": persons, "pageToken": None})
    write(HERE / "ss12000" / "activities.json", {"data": activities, "pageToken": None})
    write(HERE / "ss12000" / "aggregatedAttendance.json", {"data": attendance, "pageToken": None})


if __name__ == "__main__":
    main()
