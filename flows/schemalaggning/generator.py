"""Synthetic care units for the demo and the benchmark: staff, needs, leave and wishes.

Never real people: first names with a letter, ids ``s01``… The needs are sized from the
staff's contracted hours (about nine tenths of them, so that the law leaves room), with one
more person on each day shift at weekends, a nurse (ssk) every morning, people with delegated
medication on every shift, and a night team.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

FIRST_NAMES = (
    "Aino", "Bertil", "Cecilia", "Dragan", "Ebba", "Fatima", "Gunnar", "Hanna", "Ismail",
    "Johanna", "Karin", "Leila", "Mats", "Nora", "Olle", "Parisa", "Rut", "Sven", "Tove",
    "Ulf", "Vera", "Walid", "Yasmin", "Åsa",
)  # fmt: skip
DELEGATED = "delegated_medication"
MORNING_HOURS, EVENING_HOURS, NIGHT_HOURS = 8.5, 8.0, 9.5


def unit_generate(
    *, staff: int = 40, weeks: int = 6, start: date = date(2027, 1, 4), seed: int = 1
) -> dict:
    """Return a roster input (no shifts) for a synthetic unit of ``staff`` people."""
    rng = random.Random(seed)
    n_ssk = max(2, round(staff * 0.12))
    n_night = max(2, round(staff * 0.15))
    people = []
    for i in range(staff):
        sid = f"s{i + 1:02d}"
        if i < n_ssk:
            roles, night_only = ["ssk"], False
        elif i < n_ssk + n_night:
            roles, night_only = ["usk"], True
        else:
            roles, night_only = (["vb"] if rng.random() < 0.15 else ["usk"]), False
        competences = [DELEGATED] if roles == ["usk"] and rng.random() < 0.75 else []
        if night_only:
            competences = [DELEGATED]
        if night_only:
            # The night team is sized to whole night shifts: 3 a week at 0.75, 4 at 1.0.
            rate = (1.0, 0.75)[(i - n_ssk) % 2]
        elif i < n_ssk:
            rate = (1.0, 0.8)[i % 2]
        else:
            rate = rng.choice((1.0, 1.0, 0.9, 0.8, 0.75, 0.75, 0.6))
        person = {
            "id": sid,
            "name": f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {chr(65 + i // len(FIRST_NAMES))}.",
            "employment_rate": rate,
            "roles": roles,
            "competences": competences,
            "night_only": night_only,
        }
        if not night_only and roles == ["usk"] and rng.random() < 0.15:
            person["nights"] = True
        people.append(person)
    end = start + timedelta(days=7 * weeks - 1)

    leave = []
    for person in rng.sample(people[n_ssk:], k=max(1, staff // 10)):
        first = start + timedelta(days=rng.randrange(0, 7 * weeks - 7))
        leave.append(
            {
                "staff": person["id"],
                "start": first.isoformat(),
                "end": (first + timedelta(days=rng.choice((2, 4, 6)))).isoformat(),
                "kind": rng.choice(("semester", "föräldraledighet", "tjänstledighet")),
            }
        )

    def weekly(group):
        return sum(p["employment_rate"] * 40 for p in group) * 0.9

    day_hours = weekly([p for p in people if not p["night_only"]])
    night_hours = weekly([p for p in people if p["night_only"]])
    per_night = max(1, round(night_hours / 0.9 / (7 * NIGHT_HOURS)))
    # 7 (8.5 M + 8 E) + 2 (8.5 + 8) = day_hours with M ≈ 1.25 E.
    evening = max(1, int((day_hours - 33) / 7 / (8.5 * 1.25 + 8)))
    morning = max(1, int((day_hours - 33) / 7 - 8 * evening) // 8.5)
    delegated_mornings = 2 if staff >= 25 else 1
    needs = []
    for d in range(7 * weeks):
        day = start + timedelta(days=d)
        extra = 1 if day.weekday() >= 5 else 0
        iso = day.isoformat()
        m, e = int(morning) + extra, evening + extra
        needs.append({"date": iso, "shift": "morning", "count": 1, "roles": ["ssk"]})
        needs.append(
            {"date": iso, "shift": "morning", "count": delegated_mornings, "roles": ["usk"],
             "competences": [DELEGATED]}
        )  # fmt: skip
        if m - 1 - delegated_mornings > 0:
            needs.append({"date": iso, "shift": "morning", "count": m - 1 - delegated_mornings})
        needs.append(
            {"date": iso, "shift": "evening", "count": 1, "roles": ["usk"],
             "competences": [DELEGATED]}
        )  # fmt: skip
        if n_ssk >= 4:
            needs.append({"date": iso, "shift": "evening", "count": 1, "roles": ["ssk"]})
        rest = e - 1 - (1 if n_ssk >= 4 else 0)
        if rest > 0:
            needs.append({"date": iso, "shift": "evening", "count": rest})
        needs.append(
            {"date": iso, "shift": "night", "count": 1, "roles": ["usk"],
             "competences": [DELEGATED]}
        )  # fmt: skip
        if per_night > 1:
            needs.append({"date": iso, "shift": "night", "count": per_night - 1, "roles": ["usk"]})

    wishes = []
    for person in rng.sample(people, k=max(2, staff // 4)):
        day = start + timedelta(days=rng.randrange(0, 7 * weeks))
        wishes.append(
            {"staff": person["id"], "date": day.isoformat(), "kind": "off",
             "weight": rng.choice((1, 2, 3))}
        )  # fmt: skip
    return {
        "staff": people,
        "needs": needs,
        "leave": leave,
        "wishes": wishes,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "rules": "atl-2026",
    }
