"""Fixtures for the inbox and case-page tests (not autouse: other tests are unaffected)."""

import pytest
from django.contrib.auth.models import Group, User

from municipality.models import Staff, Unit, unit_group_name


@pytest.fixture
def people(org):
    """The demo staff with e-mail addresses, plus a caseworker and a team leader of another unit."""
    users = org["users"]
    for user in users.values():
        user.email = f"{user.username}@kommun.example"
        user.save(update_fields=["email"])
    other = Unit.objects.create(code="other", name="Other unit", committee="Socialnämnden")
    group = Group.objects.create(name=unit_group_name(other))
    for username, role in (("olle", Staff.Role.CASEWORKER), ("tove", Staff.Role.TEAM_LEADER)):
        user = User.objects.create_user(username, email=f"{username}@kommun.example")
        Staff.objects.create(user=user, unit=other, role=role)
        user.groups.add(group)
        users[username] = user
    return users


@pytest.fixture(scope="session", autouse=True)
def _swedish_catalogue_compiled():
    from .inbox_helpers import messages_compiled

    messages_compiled()


LAST_NAMES = {"kim": "Kvist", "kai": "Berg", "lo": "Lund", "uno": "Ek"}


@pytest.fixture
def crew(core_org, people):
    """The test process's unit staffed like a real one, plus everyone outside it.

    In the test unit: kim Kvist and kai Berg (caseworkers, delegation up to 10 000), lo Lund (team
    leader, no limit), uno Ek (unit administrator, no group, no delegation) and
    core-system (integration). Outside it: `people` (the demo staff, incl. greta the
    auditor, and olle/tove of unit "other").
    """
    unit = core_org["unit"]
    group = Group.objects.get(name=unit_group_name(unit))
    users = {**people, **core_org["users"]}
    for username in core_org["users"]:
        users[username].email = f"{username}@kommun.example"
        users[username].last_name = LAST_NAMES.get(username, "")
        users[username].save(update_fields=["email", "last_name"])
    for username, role in (("kai", Staff.Role.CASEWORKER), ("uno", Staff.Role.UNIT_ADMIN)):
        user = User.objects.create_user(
            username,
            first_name=username.title(),
            last_name=LAST_NAMES[username],
            email=f"{username}@kommun.example",
        )
        Staff.objects.create(user=user, unit=unit, kind=Staff.Kind.HUMAN, role=role, title=role)
        if role == Staff.Role.CASEWORKER:
            user.groups.add(group)
        users[username] = user
    return users
