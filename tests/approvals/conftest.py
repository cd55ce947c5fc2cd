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
