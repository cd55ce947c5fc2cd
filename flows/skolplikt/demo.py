"""Bevakning av skolplikten's part of the demo organisation: unit, people, delegation, robot."""

from datetime import date

from municipality.demo import demo_unit, demo_user
from municipality.models import ApiToken, Delegation, Staff

from .process import DECISION_TYPE, PROCESS

# Known token for the demo only (README): the process owner's integration account that may
# start a scan through POST /api/v1/runs/skolplikt/.
DEMO_SKOLPLIKT_TOKEN = "rf_demo_skolplikt_token_2026"
ROBOT_USERNAME = "skolplikt-robot"
INTEGRATION_USERNAME = "skolplikt-bevakning"

USERS = [
    # username, first, last, kind, role, title
    ("sara", "Sara", "Nord", Staff.Kind.HUMAN, Staff.Role.CASEWORKER, "Skolkurator / handläggare"),
    ("bo", "Bo", "Ek", Staff.Kind.HUMAN, Staff.Role.TEAM_LEADER, "Gruppledare elevhälsan"),
    (
        ROBOT_USERNAME,
        "Robot",
        "Skolpliktsbevakning",
        Staff.Kind.ROBOT,
        Staff.Role.SYSTEM,
        "Robot (månadsbevakning)",
    ),
    (
        INTEGRATION_USERNAME,
        "Processägare",
        "Skolpliktsbevakning",
        Staff.Kind.INTEGRATION,
        Staff.Role.SYSTEM,
        "Integration (processägarens körningar)",
    ),
]


def demo_load(*, org: dict) -> None:
    unit = demo_unit(
        code=PROCESS.unit_code,
        name="Elevhälsan – skolpliktsbevakning",
        committee="Barn- och skolnämnden",
    )
    org["units"][PROCESS.slug] = unit
    for username, first, last, kind, role, title in USERS:
        demo_user(
            org=org,
            username=username,
            first=first,
            last=last,
            kind=kind,
            role=role,
            title=title,
            unit=unit,
        )
    for role, reference in (
        (Staff.Role.CASEWORKER, "BSN 5.3.1"),
        (Staff.Role.TEAM_LEADER, "BSN 5.3.2"),
    ):
        Delegation.objects.get_or_create(
            unit=unit,
            decision_type=DECISION_TYPE,
            role=role,
            defaults={"max_amount": None, "valid_from": date(2026, 1, 1), "reference": reference},
        )
    ApiToken.objects.get_or_create(
        token_sha256=ApiToken.hash(DEMO_SKOLPLIKT_TOKEN),
        defaults={"user": org["users"][INTEGRATION_USERNAME], "name": "demo skolplikt-körningar"},
    )
