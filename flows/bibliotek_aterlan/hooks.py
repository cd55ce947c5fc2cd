"""The hooks the core calls for Återlån på biblioteket (approvals.registry lists them)."""

from __future__ import annotations

from municipality.personnummer import PersonnummerError, parse_personnummer

from .process import LET_RUN_OUT, PROCESS, RENEWED_BY_HAND


def parties(*, payload: dict) -> list[tuple[str, str, str]]:
    """The patron, when the card number is a personnummer (some libraries use it as the
    card number); an ordinary library card number identifies nobody here: no parties."""
    patron_id = payload.get("patron_id")
    if not patron_id:
        return []
    try:
        number = parse_personnummer(patron_id)
    except PersonnummerError:
        return []
    return [(number.canonical, "patron", payload.get("patron_name", ""))]


def case_data(*, payload: dict) -> dict:
    """The night (and for an exception, the loan) kept on the case for lists and filters."""
    data = {"kind": payload.get("kind", "loan"), "night": payload.get("night", "")}
    if data["kind"] == "loan":
        data.update(item_id=payload.get("item_id", ""), reason=payload.get("reason", ""))
    return data


def exception_actions() -> list[str]:
    return [RENEWED_BY_HAND, LET_RUN_OUT]


def case_panel_context(*, case, material) -> dict:
    from .forms import SettlementForm
    from .models import LoanRenewal
    from .steps import REASON_LABEL_SV

    row = LoanRenewal.objects.filter(exception_case=case).first()
    from approvals.models import ExceptionSettlement

    request = case.requests.filter(kind="exception").order_by("-pk").first()
    settlement = (
        ExceptionSettlement.objects.select_related("settled_by").filter(request=request).first()
        if request is not None
        else None
    )
    return {
        "loan": row,
        "reason_label": REASON_LABEL_SV.get(row.reason, row.reason) if row else "",
        "request": request,
        "settlement": settlement,
        "actions": exception_actions(),
        "form": SettlementForm(due_date=row.due_date) if row else None,
    }


def automation(*, since) -> dict:
    """For the operators' catalogue: loans handled since `since`, and how many the robot
    renewed alone ({"handled": n, "automatic": m})."""
    from .steps import automation as count

    return count(since=since)


USERS = [
    # username, first, last, role, title
    ("lena", "Lena", "Lundqvist", "caseworker", "Bibliotekarie"),
    ("lars", "Lars", "Lindgren", "team_leader", "Gruppledare, Stadsbiblioteket"),
]


def demo_load(*, org: dict) -> None:
    """The city library, its two librarians and the robot's account (municipality.demo).

    No delegation lines: settling an exception is no decision under the delegation order
    (no public authority); the librarians' unit group and the request's grant suffice."""
    from municipality.demo import demo_unit, demo_user
    from municipality.models import Staff

    from .steps import ROBOT_USERNAME

    unit = demo_unit(
        code=PROCESS.unit_code, name="Stadsbiblioteket", committee="Kultur- och fritidsnämnden"
    )
    org["units"][PROCESS.slug] = unit
    for username, first, last, role, title in USERS:
        demo_user(
            org=org,
            username=username,
            first=first,
            last=last,
            kind=Staff.Kind.HUMAN,
            role=role,
            title=title,
            unit=unit,
        )
    demo_user(
        org=org,
        username=ROBOT_USERNAME,
        first="Återlånsroboten",
        last="",
        kind=Staff.Kind.ROBOT,
        role=Staff.Role.SYSTEM,
        title="Robot",
        unit=unit,
    )
