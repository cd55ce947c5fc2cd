"""The demo organisation: auditors, process owners, and each registered process's own part.

Idempotent: loading it twice changes nothing. Synthetic people only. Each process
adds its unit, people and delegation order through its `demo_load(*, org)` hook.
"""

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction

from .models import Staff, Unit, unit_group_name

DEMO_PASSWORD = "demo-2026!"
# Known token for the demo only, so that the README can show a working example.
DEMO_INTEGRATION_TOKEN = "rf_demo_etjanst_token_2026"
AUDITORS_GROUP = "auditors"
# Process owners and operators: the robot catalogue, its health, volumes and time saved.
OPERATORS_GROUP = "operators"

CORE_USERS = [
    # username, first, last, kind, role, title
    ("greta", "Greta", "Granskare", Staff.Kind.HUMAN, Staff.Role.AUDITOR, "Revisor"),
    ("otto", "Otto", "Olsson", Staff.Kind.HUMAN, Staff.Role.PROCESS_OWNER, "Processägare"),
]


def demo_unit(*, code: str, name: str, committee: str) -> Unit:
    unit, _ = Unit.objects.get_or_create(code=code, defaults={"name": name, "committee": committee})
    Group.objects.get_or_create(name=unit_group_name(unit))
    return unit


def demo_user(
    *,
    org: dict,
    username: str,
    first: str,
    last: str,
    kind: str,
    role: str,
    title: str,
    unit: Unit | None,
) -> User:
    """A demo login (password DEMO_PASSWORD for humans) with its place in the organisation."""
    user, created = User.objects.get_or_create(
        username=username,
        # Addresses for reminders and notifications (console backend in the demo).
        defaults={"first_name": first, "last_name": last, "email": f"{username}@kommun.example"},
    )
    if created:
        if kind == Staff.Kind.HUMAN:
            user.set_password(DEMO_PASSWORD)
        else:
            user.set_unusable_password()
        # The unit administrator keeps the delegation order in the Django admin.
        user.is_staff = role == Staff.Role.UNIT_ADMIN
        user.save()
    Staff.objects.get_or_create(
        user=user, defaults={"unit": unit, "kind": kind, "role": role, "title": title}
    )
    if unit is not None and role in (Staff.Role.CASEWORKER, Staff.Role.TEAM_LEADER):
        user.groups.add(Group.objects.get(name=unit_group_name(unit)))
    if role == Staff.Role.AUDITOR:
        user.groups.add(Group.objects.get(name=AUDITORS_GROUP))
    # A process owner sees the catalogue, never a case: no unit group, no delegation.
    if role == Staff.Role.PROCESS_OWNER:
        user.groups.add(Group.objects.get(name=OPERATORS_GROUP))
    org["users"][username] = user
    return user


@transaction.atomic
def demo_organisation_load() -> dict:
    from approvals.registry import registry

    auditors, _ = Group.objects.get_or_create(name=AUDITORS_GROUP)
    auditors.permissions.add(Permission.objects.get(codename="view_audit_trail"))
    operators, _ = Group.objects.get_or_create(name=OPERATORS_GROUP)
    operators.permissions.add(
        Permission.objects.get(content_type__app_label="municipality", codename="view_operations")
    )
    org = {"users": {}, "units": {}, "token": DEMO_INTEGRATION_TOKEN}
    for username, first, last, kind, role, title in CORE_USERS:
        demo_user(
            org=org,
            username=username,
            first=first,
            last=last,
            kind=kind,
            role=role,
            title=title,
            unit=None,
        )
    for spec in registry.all():
        load = spec.hook("demo_load")
        if load is not None:
            load(org=org)
    return org
