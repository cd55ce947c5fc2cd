"""Ekonomiskt bistånd's part of the demo organisation: its unit, people and delegation order."""

from datetime import date

from municipality.demo import DEMO_INTEGRATION_TOKEN, demo_unit, demo_user
from municipality.models import ApiToken, Delegation, Staff

from .process import DECISION_TYPE, PROCESS

USERS = [
    # username, first, last, kind, role, title
    ("anna", "Anna", "Lind", Staff.Kind.HUMAN, Staff.Role.CASEWORKER, "Socialsekreterare"),
    ("erik", "Erik", "Berg", Staff.Kind.HUMAN, Staff.Role.CASEWORKER, "Socialsekreterare"),
    ("maria", "Maria", "Holm", Staff.Kind.HUMAN, Staff.Role.TEAM_LEADER, "Gruppledare"),
    ("ulla", "Ulla", "Ulvsdotter", Staff.Kind.HUMAN, Staff.Role.UNIT_ADMIN, "Enhetsadministratör"),
    (
        "etjanst",
        "E-tjänst",
        "Ekonomiskt bistånd",
        Staff.Kind.INTEGRATION,
        Staff.Role.SYSTEM,
        "Integration",
    ),
]


def demo_load(*, org: dict) -> None:
    unit = demo_unit(
        code=PROCESS.unit_code, name="Enheten för ekonomiskt bistånd", committee="Socialnämnden"
    )
    if not unit.address:
        # Synthetic contact details of the demo municipality.
        unit.municipality = "Exempelby kommun"
        unit.address = "Box 100, 123 45 Exempelby"
        unit.phone = "0123-45 67 00"
        unit.email = "ekonomisktbistand@exempelby.example"
        unit.committee_address = "Socialnämnden, Exempelby kommun, Box 100, 123 45 Exempelby"
        unit.save()
    org["units"][PROCESS.slug] = unit
    for username, first, last, kind, role, title in USERS:
        demo_user(
            org=org, username=username, first=first, last=last, kind=kind, role=role,
            title=title, unit=unit,
        )
    Delegation.objects.get_or_create(
        unit=unit,
        decision_type=DECISION_TYPE,
        role=Staff.Role.CASEWORKER,
        defaults={"max_amount": 15000, "valid_from": date(2026, 1, 1), "reference": "SN 4.2.1"},
    )
    Delegation.objects.get_or_create(
        unit=unit,
        decision_type=DECISION_TYPE,
        role=Staff.Role.TEAM_LEADER,
        defaults={"max_amount": None, "valid_from": date(2026, 1, 1), "reference": "SN 4.2.2"},
    )
    ApiToken.objects.get_or_create(
        token_sha256=ApiToken.hash(DEMO_INTEGRATION_TOKEN),
        defaults={"user": org["users"]["etjanst"], "name": "demo e-tjänst"},
    )
