"""The hooks the core calls for ekonomiskt bistånd (approvals.registry lists them)."""

from .calculation import adjustable_lines as _adjustable_lines
from .calculation import apply_adjustments as _apply_adjustments


def parties(*, payload: dict) -> list[tuple[str, str, str]]:
    """Everyone in the household as the application (with its supplements) declares it."""
    people = [(payload["applicant"]["personnummer"], "applicant", payload["applicant"]["name"])]
    if payload.get("co_applicant"):
        co = payload["co_applicant"]
        people.append((co["personnummer"], "co_applicant", co["name"]))
    people += [(c["personnummer"], "child", "") for c in payload.get("children", [])]
    people += [(a["personnummer"], "other_adult", a["name"]) for a in payload.get("other_adults", [])]
    return people


def case_data(*, payload: dict) -> dict:
    """The month applied for, kept on the case for filters and duplicate checks."""
    return {"period": payload["period"]}


def merge_supplement(*, payload: dict, supplement: dict) -> dict:
    """A supplement replaces the top-level parts it names; within costs and incomes it
    replaces the items it names."""
    for key, value in supplement.items():
        if key in ("costs", "incomes") and isinstance(value, dict):
            payload.setdefault(key, {}).update(value)
        else:
            payload[key] = value
    return payload


def adjustable_lines(*, proposal: dict) -> list[dict]:
    return _adjustable_lines(calculation=proposal)


def apply_adjustments(*, proposal: dict, adjustments: list[dict]) -> dict:
    adjusted = _apply_adjustments(calculation=proposal, adjustments=adjustments)
    return {
        "proposal": adjusted,
        "authority_amount": adjusted["proposed_amount"],
        "adjustments": adjusted["adjustments"],
    }


def demo_load(*, org: dict) -> None:
    """The demo's social-services unit, its people and delegation order (municipality.demo)."""
    from flows.ekonomiskt_bistand.demo import demo_load as load

    load(org=org)


def case_panel_context(*, case, material) -> dict:
    from .panel import case_panel_context as context

    return context(case=case, material=material)
