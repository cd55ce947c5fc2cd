"""The demo organisation: one social-services unit, its staff and delegation order.

Idempotent: loading it twice changes nothing. Synthetic people only.
"""

from datetime import date

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction

from .models import ApiToken, Delegation, Process, Staff, Unit, unit_group_name

DEMO_PASSWORD = "demo-2026!"
# Known token for the demo only, so that the README can show a working example.
DEMO_INTEGRATION_TOKEN = "rf_demo_etjanst_token_2026"
AUDITORS_GROUP = "auditors"
# Process owners and operators: the robot catalogue, its health, volumes and time saved.
OPERATORS_GROUP = "operators"
DECISION_TYPE_BISTAND = "ekonomiskt-bistand.beslut"

DEMO_USERS = [
    # username, first, last, kind, role, title
    ("anna", "Anna", "Lind", Staff.Kind.HUMAN, Staff.Role.CASEWORKER, "Socialsekreterare"),
    ("erik", "Erik", "Berg", Staff.Kind.HUMAN, Staff.Role.CASEWORKER, "Socialsekreterare"),
    ("maria", "Maria", "Holm", Staff.Kind.HUMAN, Staff.Role.TEAM_LEADER, "Gruppledare"),
    ("greta", "Greta", "Granskare", Staff.Kind.HUMAN, Staff.Role.AUDITOR, "Revisor"),
    ("ulla", "Ulla", "Ulvsdotter", Staff.Kind.HUMAN, Staff.Role.UNIT_ADMIN, "Enhetsadministratör"),
    ("otto", "Otto", "Olsson", Staff.Kind.HUMAN, Staff.Role.PROCESS_OWNER, "Processägare"),
    (
        "etjanst",
        "E-tjänst",
        "Ekonomiskt bistånd",
        Staff.Kind.INTEGRATION,
        Staff.Role.SYSTEM,
        "Integration",
    ),
]


@transaction.atomic
def demo_organisation_load() -> dict:
    unit, _ = Unit.objects.get_or_create(
        code="ekb",
        defaults={"name": "Enheten för ekonomiskt bistånd", "committee": "Socialnämnden"},
    )
    unit_group, _ = Group.objects.get_or_create(name=unit_group_name(unit))
    auditors, _ = Group.objects.get_or_create(name=AUDITORS_GROUP)
    auditors.permissions.add(Permission.objects.get(codename="view_audit_trail"))
    operators, _ = Group.objects.get_or_create(name=OPERATORS_GROUP)
    operators.permissions.add(
        Permission.objects.get(content_type__app_label="municipality", codename="view_operations")
    )
    users = {}
    for username, first, last, kind, role, title in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            # Addresses for reminders and notifications (console backend in the demo).
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@kommun.example",
            },
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
            user=user,
            defaults={
                "unit": unit if role != Staff.Role.AUDITOR else None,
                "kind": kind,
                "role": role,
                "title": title,
            },
        )
        if role in (Staff.Role.CASEWORKER, Staff.Role.TEAM_LEADER):
            user.groups.add(unit_group)
        if role == Staff.Role.AUDITOR:
            user.groups.add(auditors)
        # A process owner sees the catalogue, never a case: no unit group, no delegation.
        if role == Staff.Role.PROCESS_OWNER:
            user.groups.add(operators)
        users[username] = user
    Delegation.objects.get_or_create(
        unit=unit,
        decision_type=DECISION_TYPE_BISTAND,
        role=Staff.Role.CASEWORKER,
        defaults={"max_amount": 15000, "valid_from": date(2026, 1, 1), "reference": "SN 4.2.1"},
    )
    Delegation.objects.get_or_create(
        unit=unit,
        decision_type=DECISION_TYPE_BISTAND,
        role=Staff.Role.TEAM_LEADER,
        defaults={"max_amount": None, "valid_from": date(2026, 1, 1), "reference": "SN 4.2.2"},
    )
    Process.objects.get_or_create(
        slug="ekonomiskt-bistand",
        defaults={
            "name": "Återansökan av ekonomiskt bistånd",
            "unit": unit,
            "decision_type": DECISION_TYPE_BISTAND,
            "public_authority": True,
            "due_working_days": 3,
            "minutes_saved_per_case": 25,
        },
    )
    ApiToken.objects.get_or_create(
        token_sha256=ApiToken.hash(DEMO_INTEGRATION_TOKEN),
        defaults={"user": users["etjanst"], "name": "demo e-tjänst"},
    )
    return {"unit": unit, "users": users, "token": DEMO_INTEGRATION_TOKEN}
