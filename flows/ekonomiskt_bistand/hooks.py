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


def proposed_outcome(*, proposal: dict) -> str:
    """What the robot proposes: an approval of the computed sum, or a refusal when it is 0 kr."""
    return "approved" if proposal.get("proposed_amount", 0) > 0 else "refused"


def intake_flags(*, case) -> list[dict]:
    """A second application for a month already decided or open for the same applicant.

    The new case is held for manual review: its material shows the flag first and the
    signer must acknowledge it (the gate refuses otherwise). Never a silent second payment.
    """
    from approvals.models import Case

    applicant = case.applicant_personnummer
    earlier = (
        Case.objects.filter(
            process=case.process,
            data__period=case.data.get("period"),
            parties__role="applicant",
            parties__personnummer=applicant,
        )
        .exclude(pk=case.pk)
        .exclude(status=Case.Status.FAILED)
        .order_by("pk")
    )
    return [
        {
            "code": "duplicate_period",
            "severity": "warning",
            "requires_acknowledgement": True,
            "origin": "robot",
            "text": (
                f"Det finns redan en ansökan för samma sökande och period {case.data.get('period')}: "
                f"ärende {other.external_ref} ({other.get_status_display().lower()}). "
                "Kontrollera att bistånd inte betalas två gånger."
            ),
            "case": other.pk,
        }
        for other in earlier[:5]
    ]
