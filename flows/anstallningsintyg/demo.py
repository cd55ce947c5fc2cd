"""The certificate robot's part of the demo organisation (municipality.demo).

HR och lön under Kommunstyrelsen with an HR officer and a team leader who settle
exceptions, the robot account that opens and completes cases, and employees of other
units whose login carries the personnummer of a synthetic employee in the HR register
(data/anstallningsintyg/employees.json), so that self-service finds them.
"""

from municipality.demo import demo_unit, demo_user
from municipality.models import Staff

from .process import PROCESS

ROBOT_USERNAME = "intygsrobot"

USERS = [
    # username, first, last, kind, role, title
    ("hanna", "Hanna", "Hedberg", Staff.Kind.HUMAN, Staff.Role.CASEWORKER, "HR-specialist"),
    ("henrik", "Henrik", "Hallberg", Staff.Kind.HUMAN, Staff.Role.TEAM_LEADER, "Gruppledare HR"),
    (ROBOT_USERNAME, "Intygsrobot", "HR", Staff.Kind.ROBOT, Staff.Role.SYSTEM, "Robot"),
]

# Employees with a login and no place in HR: (username, first, last, title, personnummer).
# The personnummer are the synthetic employees' E1001 and E1009 (Skatteverket test numbers).
EMPLOYEES = [
    ("eva", "Eva", "Holm", "Undersköterska", "199107152382"),
    ("klara", "Klara", "Wallin", "Lärare", "199711242389"),
]


def demo_load(*, org: dict) -> None:
    unit = demo_unit(code=PROCESS.unit_code, name="HR och lön", committee="Kommunstyrelsen")
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
    for username, first, last, title, personnummer in EMPLOYEES:
        user = demo_user(
            org=org,
            username=username,
            first=first,
            last=last,
            kind=Staff.Kind.HUMAN,
            role=Staff.Role.CASEWORKER,
            title=title,
            unit=None,
        )
        Staff.objects.filter(user=user).update(personnummer=personnummer)
