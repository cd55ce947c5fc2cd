"""The hooks the core calls for kassaavstämning (approvals.registry lists them).

Two kinds of case share the process: an "import" (three files, reconciled by the
robot) and a "difference" (one cash point's day with differences, attested by a
person). Neither is about a person, so there are no parties.
"""

IMPORT = "import"
DIFFERENCE = "difference"


def case_data(*, payload: dict) -> dict:
    """Kept on the case for filters and the inbox: the kind of case, cash point, day, kinds.

    The inbox reads only Case.data (not the payload) for its rows, so what the row shows
    is here.
    """
    if payload.get("kind") == DIFFERENCE:
        return {
            "kind": DIFFERENCE,
            "cash_point": payload["cash_point"] or "",
            "cash_point_name": payload["cash_point_name"],
            "date": payload["date"],
            "difference_kinds": sorted({d["kind"] for d in payload["differences"]}),
            "period": payload["date"][:7],
        }
    return {
        "kind": IMPORT,
        "first_day": payload["first_day"],
        "last_day": payload["last_day"],
        "period": payload["first_day"][:7],
    }


def case_panel_context(*, case, material) -> dict:
    from .panel import case_panel_context as context

    return context(case=case, material=material)


def demo_load(*, org: dict) -> None:
    """The accounting unit, its controller and team leader, the robot and the bank import."""
    from .demo import demo_load as load

    load(org=org)
