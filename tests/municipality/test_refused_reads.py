"""Refused reads are logged, once each, and forbidden looks like missing (issue 10, point 10).

A caseworker of another unit asks for a case page, a case id that does not exist and a
material PDF: each answer is a 404 identical to a missing one, and each is one line of
the access log (robotfabrik.access) naming who, what and which id.
"""

import logging

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from municipality.access_log import READ_REFUSED
from municipality.models import Staff, Unit, unit_group_name
from tests.approvals.core_helpers import core_compile, core_open

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]


@pytest.fixture
def outsider(db):
    other = Unit.objects.create(code="annan", name="Annan enhet", committee="Nämnden")
    group = Group.objects.create(name=unit_group_name(other))
    user = User.objects.create_user("utomstaende")
    Staff.objects.create(user=user, unit=other, role=Staff.Role.CASEWORKER)
    user.groups.add(group)
    return user


@pytest.fixture
def core_request(core_org):
    return core_compile(core_open(core_org))


def _refusals(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "robotfabrik.access" and READ_REFUSED in r.getMessage()
    ]


@pytest.mark.parametrize(
    "name, attr",
    [("approvals:case", "case_id"), ("approvals:material_pdf", "material_id")],
)
def test_forbidden_and_missing_are_each_logged_once_and_look_the_same(
    client, outsider, core_request, caplog, name, attr
):
    real = getattr(core_request, attr)
    missing_id = real + 100_000
    client.force_login(outsider)
    with caplog.at_level(logging.INFO, logger="robotfabrik.access"):
        forbidden = client.get(reverse(name, args=[real]))
        after_forbidden = _refusals(caplog)
        missing = client.get(reverse(name, args=[missing_id]))
        after_missing = _refusals(caplog)
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content
    [first] = after_forbidden
    assert f"who=user:{outsider.pk}" in first and f"what={name}" in first
    assert f"id={real}" in first
    [_, second] = after_missing
    assert f"who=user:{outsider.pk}" in second and f"id={missing_id}" in second


def test_a_permitted_read_is_not_a_refusal(client, core_org, core_request, caplog):
    client.force_login(core_org["users"]["kim"])
    with caplog.at_level(logging.INFO, logger="robotfabrik.access"):
        assert client.get(reverse("approvals:case", args=[core_request.case_id])).status_code == 200
    assert _refusals(caplog) == []
