"""Kassaavstämning's part of the demo organisation: the accounting unit, its attestants, the
robot that opens the difference cases and the integration account that delivers the files."""

from datetime import date

from municipality.demo import demo_unit, demo_user
from municipality.models import ApiToken, Delegation, Staff

from .process import DECISION_TYPE, PROCESS

# Known token for the demo only, so that the README can show a working import.
DEMO_IMPORT_TOKEN = "rf_demo_kassa_import_2026"
ROBOT_USERNAME = "kassarobot"
INTEGRATION_USERNAME = "ekonomisystem"
CONTROLLER_LIMIT_KR = 50_000

USERS = [
    # username, first, last, kind, role, title
    ("karin", "Karin", "Kassör", Staff.Kind.HUMAN, Staff.Role.CASEWORKER, "Controller"),
    ("per", "Per", "Persson", Staff.Kind.HUMAN, Staff.Role.TEAM_LEADER, "Redovisningschef"),
    (
        ROBOT_USERNAME,
        "Kassarobot",
        "Kassaavstämning",
        Staff.Kind.ROBOT,
        Staff.Role.SYSTEM,
        "Robot",
    ),
    (
        INTEGRATION_USERNAME,
        "Ekonomisystem",
        "Bank- och bokföringsfiler",
        Staff.Kind.INTEGRATION,
        Staff.Role.SYSTEM,
        "Integration",
    ),
]


def demo_load(*, org: dict) -> None:
    unit = demo_unit(
        code=PROCESS.unit_code, name="Redovisningsenheten", committee="Kommunstyrelsen"
    )
    org["units"][PROCESS.slug] = unit
    for username, first, last, kind, role, title in USERS:
        demo_user(
            org=org, username=username, first=first, last=last, kind=kind, role=role,
            title=title, unit=unit,
        )
    # Attest rights are personal in the attestreglemente: named lines, not roles.
    Delegation.objects.get_or_create(
        unit=unit,
        decision_type=DECISION_TYPE,
        user=org["users"]["karin"],
        defaults={
            "max_amount": CONTROLLER_LIMIT_KR,
            "valid_from": date(2026, 1, 1),
            "reference": "KS attestreglemente 3.2 (controller)",
        },
    )
    Delegation.objects.get_or_create(
        unit=unit,
        decision_type=DECISION_TYPE,
        user=org["users"]["per"],
        defaults={
            "max_amount": None,
            "valid_from": date(2026, 1, 1),
            "reference": "KS attestreglemente 3.1 (redovisningschef)",
        },
    )
    ApiToken.objects.get_or_create(
        token_sha256=ApiToken.hash(DEMO_IMPORT_TOKEN),
        defaults={"user": org["users"][INTEGRATION_USERNAME], "name": "demo bank/ledger import"},
    )
