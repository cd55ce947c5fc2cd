"""Fixtures for the inbox and case-page tests (not autouse: other tests are unaffected)."""

import pytest
from django.contrib.auth.models import Group, User

from municipality.models import Staff, Unit, unit_group_name

# A one-page PDF; the inbox tests never read the material's PDF, only the gate's hash of the HTML.
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture
def fast_pdf(monkeypatch):
    """Skip rendering the material PDF (WeasyPrint); the HTML, its hash and the gate are real."""
    monkeypatch.setattr("approvals.services.html_to_pdf", lambda html: TINY_PDF)


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
