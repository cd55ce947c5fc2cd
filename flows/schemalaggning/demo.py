"""Schemaläggning's part of the demo organisation: the home-care unit, its manager, a robot."""

from datetime import date

from municipality.demo import demo_unit, demo_user
from municipality.models import Delegation, Staff

from .process import DECISION_TYPE, PROCESS

UNIT_NAME = "Hemtjänst Norr"
COMMITTEE = "Äldreomsorgsnämnden"
MANAGER = "elin"
ROBOT = "schemarobot"


def demo_load(*, org: dict) -> None:
    unit = demo_unit(code=PROCESS.unit_code, name=UNIT_NAME, committee=COMMITTEE)
    org["units"][PROCESS.slug] = unit
    demo_user(
        org=org, username=MANAGER, first="Elin", last="Sandberg", kind=Staff.Kind.HUMAN,
        role=Staff.Role.TEAM_LEADER, title="Enhetschef", unit=unit,
    )  # fmt: skip
    demo_user(
        org=org, username=ROBOT, first="Schemarobot", last="Hemtjänst Norr",
        kind=Staff.Kind.ROBOT, role=Staff.Role.SYSTEM, title="Robotkonto", unit=unit,
    )  # fmt: skip
    # The enhetschef fastställer the unit's rosters (the committee's delegation order).
    Delegation.objects.get_or_create(
        unit=unit,
        decision_type=DECISION_TYPE,
        role=Staff.Role.TEAM_LEADER,
        defaults={"max_amount": None, "valid_from": date(2026, 1, 1), "reference": "ÄN 5.3"},
    )
