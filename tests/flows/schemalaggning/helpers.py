"""Small builders for hand-worked rosters."""

from flows.schemalaggning.rules import check


def person(sid="s1", rate=1.0, roles=("usk",), **extra):
    return {"id": sid, "employment_rate": rate, "roles": list(roles), **extra}


def shift(start, end, staff="s1", **extra):
    return {"staff": staff, "start": start, "end": end, **extra}


def roster(shifts=(), *, staff=None, period=None, **extra):
    data = {"staff": staff or [person()], "shifts": list(shifts), "rules": "atl-2026", **extra}
    if period:
        data["period"] = {"start": period[0], "end": period[1]}
    return data


def breaches(data, rule=None):
    found = check(data)["breaches"]
    return [b for b in found if rule is None or b["rule"] == rule]


def days_shifts(days, start="07:00", end="15:30", staff="s1"):
    """The same hours on each ISO date in ``days``."""
    return [shift(f"{d}T{start}", f"{d}T{end}", staff=staff) for d in days]
