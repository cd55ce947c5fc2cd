"""Closing the ways around the signature through accounts (issue 10, points 1 and 2).

A superuser who resets a delegate's password could sign as her. Every account change is
therefore an event on the hash chain, whatever makes it; the account pages of the admin
are the superuser's alone; and a password someone else set must be changed by its owner
before the gate accepts her signature.
"""

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.urls import reverse
from guardian.shortcuts import assign_perm, remove_perm

from approvals import rules, services
from approvals.audit import ACCOUNT_KINDS, Kind, audit_verify
from approvals.models import AuditEvent, Decision
from municipality.account_audit import account_actor, keyed_hash
from municipality.models import ApiToken, PasswordMustChange, Staff, Unit
from tests.approvals.core_helpers import core_compile, core_open
from tests.gate_helpers import material_open, sign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]

NEW_PASSWORD = "Eget-l0senord-for-kim!"
RESET_PASSWORD = "Aterstallt-av-admin-2026!"


def account_events(after: int = 0):
    return list(AuditEvent.objects.filter(kind__in=ACCOUNT_KINDS, seq__gt=after).order_by("seq"))


def head() -> int:
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return last or 0


@pytest.fixture
def boss(db):
    return User.objects.create_superuser("boss", password="boss-password-x")


@pytest.fixture
def core_request(core_org):
    return core_compile(core_open(core_org))


def _admin_reset(client, boss, user, password=RESET_PASSWORD):
    client.force_login(boss)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": password, "password2": password, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()


# --- 1. account changes are events on the chain ------------------------------------------


def test_admin_password_reset_is_an_event_with_the_superuser_as_actor(client, boss, core_org):
    """The finding: a superuser resets a delegate's password in the admin. The reset is an
    event on the chain naming the superuser and the account (never the hash), the account
    is marked, and the chain still verifies."""
    kim = core_org["users"]["kim"]
    start = head()
    _admin_reset(client, boss, kim)
    [event] = [e for e in account_events(start) if e.kind == Kind.ACCOUNT_PASSWORD_SET]
    assert event.actor_id == boss.pk and event.actor_label == "unknown:boss"
    assert event.case_id is None
    assert event.data == {
        "account": kim.pk,
        "username": "kim",
        "how": "set",
        "by": "other",
        "must_change": True,
    }
    kim.refresh_from_db()
    assert kim.password not in str(event.data) and RESET_PASSWORD not in str(event.data)
    assert PasswordMustChange.objects.get(user=kim).set_by == boss
    assert audit_verify() is None
    call_command("verify_audit")  # raises CommandError on a broken chain


def test_orm_changes_of_accounts_groups_grants_staff_and_tokens_are_on_the_chain(core_org):
    """Changes made outside any request (the shell, a command, a service) are events too,
    with the system as actor, and carry no personal value: e-mail and personnummer only
    as a keyed hash."""
    kim = core_org["users"]["kim"]
    start = head()
    kim.is_superuser = True
    kim.is_staff = True
    kim.email = "kim.privat@example.org"
    kim.save()
    group = Group.objects.create(name="extra")
    kim.groups.add(group)
    group.user_set.remove(kim)
    permission = Permission.objects.get(codename="view_audit_trail")
    kim.user_permissions.add(permission)
    kim.user_permissions.clear()
    unit = Unit.objects.get(code=core_org["unit"].code)
    assign_perm("municipality.change_unit", kim, unit)
    remove_perm("municipality.change_unit", kim, unit)
    staff = kim.staff
    staff.personnummer = "910701-2388"
    staff.title = "Handläggare 2"
    staff.save()
    token = ApiToken.objects.create(user=kim, name="t", token_sha256=ApiToken.hash("raw"))
    token.revoked_at = token.created_at
    token.save()

    events = account_events(start)
    kinds = [e.kind for e in events]
    assert kinds == [
        Kind.ACCOUNT_CHANGED,
        Kind.ACCOUNT_GROUP_ADDED,
        Kind.ACCOUNT_GROUP_REMOVED,
        Kind.PERMISSION_GRANTED,
        Kind.PERMISSION_REVOKED,
        Kind.PERMISSION_GRANTED,
        Kind.PERMISSION_REVOKED,
        Kind.STAFF_CHANGED,
        Kind.API_TOKEN_CREATED,
        Kind.API_TOKEN_REVOKED,
    ]
    assert all(e.actor_id is None and e.actor_label == "system" for e in events)
    changed = events[0].data["changes"]
    assert changed["is_superuser"] == {"from": False, "to": True}
    assert changed["is_staff"] == {"from": False, "to": True}
    assert changed["email"] == {"changed": True, "to_hash": keyed_hash("kim.privat@example.org")}
    assert events[1].data["group_name"] == "extra" and events[2].data["group_name"] == "extra"
    assert events[3].data["permission"] == "approvals.view_audit_trail"
    assert events[5].data == {
        "account": kim.pk,
        "username": "kim",
        "permission": "municipality.change_unit",
        "object": f"municipality.unit:{unit.pk}",
    }
    staff_change = events[7].data["changes"]
    assert staff_change["title"] == {"from": "caseworker", "to": "Handläggare 2"}
    assert staff_change["personnummer"] == {"changed": True, "to_hash": keyed_hash("199107012388")}
    trail = str([e.data for e in events])
    for secret in ("9107012388", "910701-2388", "kim.privat", kim.password):
        assert secret not in trail
    assert audit_verify() is None


def test_api_token_commands_are_on_the_chain(core_org):
    """Issuing a token with api_token_rotate and revoking the others are events, each
    revoked token its own, with the command as actor."""
    start = head()
    call_command("api_token_rotate", "core-system", "--name", "2027-01", stdout=None)
    call_command("api_token_rotate", "core-system", "--revoke-except", "2027-01")
    kinds = [e.kind for e in account_events(start)]
    assert kinds == [Kind.API_TOKEN_CREATED, Kind.API_TOKEN_REVOKED]
    assert [e.data["token_name"] for e in account_events(start)] == ["2027-01", "core"]


def test_a_units_routine_case_grant_is_not_an_account_event_but_another_groups_is(core_org):
    """Intake gives each case to its own unit's group (the case's own events say so); a
    grant of the same case to any other group is an account event."""
    start = head()
    case = core_open(core_org)
    assert account_events(start) == []
    outsiders = Group.objects.create(name="outsiders")
    assign_perm("approvals.view_case", outsiders, case)
    [event] = account_events(start)
    assert event.kind == Kind.PERMISSION_GRANTED
    assert event.data["group_name"] == "outsiders"
    assert event.data["object"] == f"approvals.case:{case.pk}"


def test_account_created_in_the_admin_names_its_creator(client, boss):
    start = head()
    client.force_login(boss)
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "nyanstalld",
            "password1": RESET_PASSWORD,
            "password2": RESET_PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    new = User.objects.get(username="nyanstalld")
    events = account_events(start)
    assert [e.kind for e in events] == [Kind.ACCOUNT_CREATED, Kind.ACCOUNT_PASSWORD_SET]
    assert all(e.actor_id == boss.pk for e in events)
    # An administrator chose the first password: the owner chooses her own.
    assert events[1].data["by"] == "other"
    assert PasswordMustChange.objects.filter(user=new).exists()


# --- 2. the account pages are the superuser's -------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        lambda u: reverse("admin:auth_user_changelist"),
        lambda u: reverse("admin:auth_user_change", args=[u.pk]),
        lambda u: reverse("admin:auth_user_password_change", args=[u.pk]),
        lambda u: reverse("admin:auth_user_add"),
        lambda u: reverse("admin:auth_group_changelist"),
    ],
)
def test_unit_admin_gets_403_on_the_account_pages(client, org, boss, url):
    """Even granted every auth permission, the unit administrator gets 403 on the account
    pages; the superuser gets them."""
    ulla = org["users"]["ulla"]
    ulla.user_permissions.add(*Permission.objects.filter(content_type__app_label="auth"))
    anna = org["users"]["anna"]
    client.force_login(ulla)
    assert client.get(url(anna)).status_code == 403
    client.force_login(boss)
    assert client.get(url(anna)).status_code == 200


def test_unit_admin_cannot_post_a_password_reset(client, org):
    ulla, anna = org["users"]["ulla"], org["users"]["anna"]
    client.force_login(ulla)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[anna.pk]),
        {"password1": RESET_PASSWORD, "password2": RESET_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 403
    assert not PasswordMustChange.objects.filter(user=anna).exists()


def test_admin_index_shows_the_unit_admin_her_staff_and_order_not_accounts(client, org):
    client.force_login(org["users"]["ulla"])
    html = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:municipality_staff_changelist") in html
    assert reverse("admin:municipality_delegation_changelist") in html
    assert reverse("admin:auth_user_changelist") not in html


# --- 3. the unit administrator sets a staff member's personnummer -----------------------


def _staff_form(staff, **changes):
    return {
        "role": staff.role,
        "title": staff.title,
        "new_personnummer": "",
        **changes,
    }


def test_unit_admin_sets_a_personnummer_stored_canonically(client, org):
    """Written as 910701-2388, stored as 199107012388 (as intake stores a household);
    the page never shows the stored number, and the change is an event by her."""
    ulla = org["users"]["ulla"]
    anna = Staff.objects.get(user__username="anna")
    client.force_login(ulla)
    url = reverse("admin:municipality_staff_change", args=[anna.pk])
    start = head()
    response = client.post(url, _staff_form(anna, new_personnummer="910701-2388"))
    assert response.status_code == 302, response.content.decode()[:3000]
    anna.refresh_from_db()
    assert anna.personnummer == "199107012388"
    [event] = account_events(start)
    assert event.kind == Kind.STAFF_CHANGED and event.actor_id == ulla.pk
    assert "1991070" not in str(event.data)
    page = client.get(url).content.decode()
    assert "199107012388" not in page and "9107012388" not in page


@pytest.mark.parametrize("bad", ["9107012389", "19910701-23", "abc", "9113012388"])
def test_an_invalid_personnummer_is_a_form_error_never_a_500(client, org, bad):
    ulla = org["users"]["ulla"]
    anna = Staff.objects.get(user__username="anna")
    before = anna.personnummer
    client.force_login(ulla)
    response = client.post(
        reverse("admin:municipality_staff_change", args=[anna.pk]),
        _staff_form(anna, new_personnummer=bad),
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    anna.refresh_from_db()
    assert anna.personnummer == before


def test_unit_admin_sees_only_her_units_deciding_staff(client, org):
    """Her own record, another unit's staff and the non-deciding roles are out of reach."""
    ulla = org["users"]["ulla"]
    other = Unit.objects.exclude(pk=ulla.staff.unit_id).first()
    stranger = User.objects.create_user("stranger")
    stranger_staff = Staff.objects.create(user=stranger, unit=other, role=Staff.Role.CASEWORKER)
    client.force_login(ulla)
    listing = client.get(reverse("admin:municipality_staff_changelist")).content.decode()
    assert "stranger" not in listing
    for staff in (stranger_staff, ulla.staff):
        response = client.get(reverse("admin:municipality_staff_change", args=[staff.pk]))
        assert response.status_code in (302, 403, 404)
        response = client.post(
            reverse("admin:municipality_staff_change", args=[staff.pk]),
            _staff_form(staff, new_personnummer="910701-2388"),
        )
        assert response.status_code in (302, 403, 404)
        staff.refresh_from_db()
        assert staff.personnummer == ""


def test_unit_admin_cannot_make_anyone_unit_admin(client, org):
    ulla = org["users"]["ulla"]
    anna = Staff.objects.get(user__username="anna")
    client.force_login(ulla)
    response = client.post(
        reverse("admin:municipality_staff_change", args=[anna.pk]),
        _staff_form(anna, role=Staff.Role.UNIT_ADMIN),
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    anna.refresh_from_db()
    assert anna.role != Staff.Role.UNIT_ADMIN


# --- 4. a password someone else set is changed before signing ---------------------------


def test_provisioned_accounts_are_not_marked(org, core_org):
    """The demo's people, the tests' fixtures and createsuperuser set first passwords as
    the system: nobody is marked."""
    User.objects.create_superuser("root", password="x")
    assert not PasswordMustChange.objects.exists()


def test_the_gate_refuses_a_signature_on_a_password_set_by_another(
    client, boss, core_request, core_org
):
    kim = core_org["users"]["kim"]
    _admin_reset(client, boss, kim)
    material_open(kim, core_request)
    with pytest.raises(services.GateRefused) as refused:
        sign(core_request, kim)
    assert refused.value.code == rules.DECISION_SIGNER_PASSWORD_NOT_OWN
    assert not Decision.objects.filter(request=core_request).exists()


def test_a_reset_outside_a_request_marks_the_account_too(core_request, core_org):
    """changepassword or the shell: whoever ran it is not the owner."""
    kim = core_org["users"]["kim"]
    kim.set_password(RESET_PASSWORD)
    kim.save()
    mark = PasswordMustChange.objects.get(user=kim)
    assert mark.set_by is None and mark.set_by_label == "system"
    material_open(kim, core_request)
    with pytest.raises(services.GateRefused) as refused:
        sign(core_request, kim)
    assert refused.value.code == rules.DECISION_SIGNER_PASSWORD_NOT_OWN


def test_the_same_password_again_marks_nothing(core_org):
    """A re-hash of the password she has (e.g. under another hasher) learns nobody anything."""
    kim = core_org["users"]["kim"]
    kim.set_password("x")
    kim.save()
    assert not PasswordMustChange.objects.filter(user=kim).exists()


def test_the_second_signature_is_refused_too(client, boss, core_org):
    """The cosign path: a second signer whose password was reset cannot co-sign."""
    from datetime import date

    from municipality.models import SecondSignerRule
    from tests.core_process.process import DECISION_TYPE

    SecondSignerRule.objects.create(
        unit=core_org["unit"], decision_type=DECISION_TYPE, valid_from=date(2026, 1, 1)
    )
    request = core_compile(core_open(core_org))
    kim, lo = core_org["users"]["kim"], core_org["users"]["lo"]
    material_open(kim, request)
    sign(request, kim)
    request.refresh_from_db()
    assert request.status == request.Status.AWAITING_SECOND
    _admin_reset(client, boss, lo)
    material_open(lo, request)
    with pytest.raises(services.GateRefused) as refused:
        sign(request, lo)
    assert refused.value.code == rules.DECISION_SIGNER_PASSWORD_NOT_OWN


def test_through_the_pages_refused_and_recorded_then_signed_after_her_own_change(
    client, boss, core_request, core_org
):
    """After the reset every page sends her to the password-change page; her sign POST is
    refused by the gate and recorded; once she chose her own password she signs."""
    kim = core_org["users"]["kim"]
    _admin_reset(client, boss, kim)
    # The real login page: it records the authentication the gate asks for.
    login = client.post(reverse("login"), {"username": "kim", "password": RESET_PASSWORD})
    assert login.status_code == 302
    for path in ("/", reverse("approvals:case", args=[core_request.case_id]), "/admin/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == reverse("password_change"), (
            path
        )
    page = client.get(reverse("password_change"))
    assert page.status_code == 200 and page.context["must_change"] is True

    material_open(kim, core_request)
    url = reverse("approvals:decide", args=[core_request.pk])
    body = {
        "outcome": "approved",
        "motivation": "",
        "material_sha256": core_request.material.sha256,
    }
    refused = client.post(url, body)
    assert refused.status_code == 409
    [event] = AuditEvent.objects.filter(kind=Kind.DECISION_REFUSED, actor=kim)
    assert event.data["code"] == rules.DECISION_SIGNER_PASSWORD_NOT_OWN
    assert not Decision.objects.filter(request=core_request).exists()

    start = head()
    changed = client.post(
        reverse("password_change"),
        {
            "old_password": RESET_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302 and changed["Location"] == reverse("password_change_done")
    [own] = [e for e in account_events(start) if e.kind == Kind.ACCOUNT_PASSWORD_SET]
    assert own.actor_id == kim.pk and own.data["by"] == "self"
    assert not PasswordMustChange.objects.filter(user=kim).exists()
    assert client.get("/").status_code != 302 or client.get("/")["Location"] != reverse(
        "password_change"
    )
    signed = client.post(url, body)
    assert signed.status_code == 302
    assert Decision.objects.filter(request=core_request, signer=kim).exists()
    assert audit_verify() is None


def test_the_password_page_needs_a_login(client, db):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_demo_people_sign_without_changing_their_passwords(client, org):
    """load_demo sets their passwords as the system, and the tests' hasher switch sets the
    same password again (as tests/browser/conftest.py does): nobody is marked, they log in
    and reach their pages."""
    from municipality.demo import DEMO_PASSWORD

    anna = User.objects.get(username="anna")
    anna.set_password(DEMO_PASSWORD)
    anna.save(update_fields=["password"])
    assert not PasswordMustChange.objects.exists()
    assert client.login(username="anna", password=DEMO_PASSWORD)
    response = client.get("/")
    assert not (response.status_code == 302 and response["Location"] == reverse("password_change"))


def test_account_actor_names_who_a_service_acts_for(core_org, boss):
    kim = core_org["users"]["kim"]
    start = head()
    with account_actor(boss):
        kim.is_active = False
        kim.save()
    [event] = account_events(start)
    assert event.actor_id == boss.pk
    assert re.fullmatch(r"unknown:boss", event.actor_label)


def test_changepassword_by_an_operator_marks_the_account(core_org, monkeypatch):
    """`manage.py changepassword kim` is run by whoever has the server, not by kim."""
    import getpass

    monkeypatch.setattr(getpass, "getpass", lambda prompt="": RESET_PASSWORD)
    start = head()
    call_command("changepassword", "kim", stdout=None)
    [event] = account_events(start)
    assert event.kind == Kind.ACCOUNT_PASSWORD_SET
    assert event.data["by"] == "other" and event.data["must_change"] is True
    assert PasswordMustChange.objects.filter(user=core_org["users"]["kim"]).exists()
