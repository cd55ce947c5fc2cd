"""The hooks the core calls for bevakning av skolplikten (approvals.registry lists them)."""


def parties(*, payload: dict) -> list[tuple[str, str, str]]:
    """The child and each guardian: conflict-of-interest checks, search, access logging.

    For a child with protected identity no names are stored on the parties (lists and
    searches read them); the personnummer alone serves the conflict-of-interest check.
    """
    finding = payload["finding"]
    protected = bool(finding["protected"])
    people = [(finding["personnummer"], "child", "" if protected else finding["name"])]
    people += [
        (g["personnummer"], "guardian", "" if protected else g["name"])
        for g in finding["guardians"]
    ]
    return people


def case_data(*, payload: dict) -> dict:
    """Month, first reason and protection marker, for the inbox, filters and earlier cases.

    `period` repeats the month because the generic inbox shows that column. Nothing here
    names anyone (the intake writes these values to the audit trail).
    """
    reasons = payload["finding"]["reasons"]
    return {
        "month": payload["month"],
        "period": payload["month"],
        "reason": reasons[0],
        "reasons": list(reasons),
        "protected": bool(payload["finding"]["protected"]),
    }


def case_panel_context(*, case, material) -> dict:
    from .steps import panel_context

    return panel_context(case=case, material=material)


def demo_load(*, org: dict) -> None:
    from .demo import demo_load as load

    load(org=org)
