"""The delegation order in the admin: only a unit administrator, only their unit, every
change versioned with who, when and both versions; deleted lines are kept."""

from datetime import date

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from flows.ekonomiskt_bistand.process import DECISION_TYPE as DECISION_TYPE_BISTAND
from municipality import services
from municipality.models import (
    Delegation,
    DelegationChange,
    SecondSignerRule,
    Staff,
    Substitution,
    Unit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ulla(org, client):
    client.force_login(org["users"]["ulla"])
    return org["users"]["ulla"]


@pytest.fixture
def other_unit():
    """Another unit with its own administrator, caseworker and delegation line."""
    unit = Unit.objects.create(code="aldre", name="Äldreomsorg", committee="Omsorgsnämnden")
    admin = User.objects.create_user("oskar", is_staff=True)
    Staff.objects.create(user=admin, unit=unit, role=Staff.Role.UNIT_ADMIN)
    worker = User.objects.create_user("olle")
    Staff.objects.create(user=worker, unit=unit, role=Staff.Role.CASEWORKER)
    line = Delegation.objects.create(
        unit=unit,
        decision_type="hemtjanst.beslut",
        role=Staff.Role.CASEWORKER,
        valid_from=date(2026, 1, 1),
    )
    return {"unit": unit, "admin": admin, "worker": worker, "line": line}


def _add_url(model):
    return reverse(f"admin:municipality_{model}_add")


def _change_url(obj):
    return reverse(f"admin:municipality_{obj._meta.model_name}_change", args=[obj.pk])


def _delegation_form(**changes):
    data = {
        "decision_type": DECISION_TYPE_BISTAND,
        "role": "",
        "user": "",
        "max_amount": "",
        "valid_from": "2026-04-01",
        "valid_to": "",
        "reference": "SN 4.2.3",
        "change_reason": "SN § 45/2026",
    }
    data.update(changes)
    return data


# --- who may administer --------------------------------------------------------------


def test_unit_admin_sees_only_their_units_lines(client, ulla, org, other_unit):
    """The changelist lists the own unit's lines and no other unit's."""
    response = client.get(reverse("admin:municipality_delegation_changelist"))
    assert response.status_code == 200
    shown = set(response.context["cl"].result_list)
    assert shown == set(Delegation.objects.filter(unit=org["unit"]))
    assert other_unit["line"] not in shown


def test_unit_admin_cannot_open_another_units_line(client, ulla, other_unit):
    """Another unit's line is "not found" for the administrator: nothing to see or change."""
    response = client.get(_change_url(other_unit["line"]))
    assert response.status_code == 302  # admin's "does not exist" redirect
    response = client.post(_change_url(other_unit["line"]), _delegation_form())
    assert response.status_code == 302
    other_unit["line"].refresh_from_db()
    assert other_unit["line"].reference == ""
    assert not DelegationChange.objects.exists()


@pytest.mark.parametrize("username", ["anna", "maria", "greta"])
def test_staff_without_admin_access_are_sent_to_login(client, org, username):
    """Caseworkers, team leaders and auditors are not admin staff at all."""
    client.force_login(org["users"][username])
    response = client.get(reverse("admin:municipality_delegation_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_caseworker_with_admin_access_still_cannot_manage_delegations(client, org):
    """The is_staff flag alone grants nothing on the delegation order."""
    anna = org["users"]["anna"]
    anna.is_staff = True
    anna.save()
    client.force_login(anna)
    assert client.get(reverse("admin:municipality_delegation_changelist")).status_code == 403
    assert (
        client.post(_add_url("delegation"), _delegation_form(role="caseworker")).status_code == 403
    )
    assert not DelegationChange.objects.exists()


def test_superuser_cannot_manage_delegations(client, org, django_user_model):
    """The superuser flag grants nothing here: the order belongs to the unit's administrator."""
    boss = django_user_model.objects.create_superuser("boss", password="x")
    client.force_login(boss)
    delegations = Delegation.objects.count()
    for model in ("delegation", "substitution", "secondsignerrule", "delegationchange"):
        url = reverse(f"admin:municipality_{model}_changelist")
        assert client.get(url).status_code == 403, model
    response = client.post(_add_url("delegation"), _delegation_form(role="caseworker"))
    assert response.status_code == 403
    assert Delegation.objects.count() == delegations


# --- changes are versioned -----------------------------------------------------------


def test_adding_a_line_records_who_when_and_the_new_version(client, ulla, org):
    """A new line gets the administrator's unit; the history holds the snapshot and reason."""
    response = client.post(_add_url("delegation"), _delegation_form(role="team_leader"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    line = Delegation.objects.get(reference="SN 4.2.3")
    assert line.unit == org["unit"]
    change = DelegationChange.objects.get()
    assert change.action == "created"
    assert change.changed_by == ulla
    assert change.model == "delegation" and change.object_id == line.pk
    assert change.before is None
    assert change.after["reference"] == "SN 4.2.3" and change.after["unit_id"] == org["unit"].pk
    assert change.reason == "SN § 45/2026"


def test_changing_a_line_records_both_versions(client, ulla, org):
    """The history row keeps the version before and after the change."""
    line = Delegation.objects.get(unit=org["unit"], role=Staff.Role.CASEWORKER)
    response = client.post(
        _change_url(line),
        _delegation_form(
            role="caseworker", max_amount="12000", valid_from="2026-01-01", reference="SN 4.2.1"
        ),
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.max_amount == 12000
    change = DelegationChange.objects.get()
    assert change.action == "changed"
    assert change.before["max_amount"] == 15000
    assert change.after["max_amount"] == 12000


def test_deleting_a_line_keeps_it_and_records_the_deletion(client, ulla, org):
    """Delete marks the line deleted: gone from the list and the gate, kept for the record."""
    line = Delegation.objects.get(unit=org["unit"], role=Staff.Role.CASEWORKER)
    url = reverse("admin:municipality_delegation_delete", args=[line.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"change_reason": "SN § 12/2026"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.deleted_at is not None
    change = DelegationChange.objects.get()
    assert change.action == "deleted" and change.changed_by == ulla
    assert change.reason == "SN § 12/2026"
    listed = client.get(reverse("admin:municipality_delegation_changelist")).context["cl"]
    assert line not in listed.result_list


def test_removing_a_line_needs_a_reason(client, ulla, org):
    """Without a reason nothing is removed and nothing is recorded (issue 9, point 17)."""
    line = Delegation.objects.get(unit=org["unit"], role=Staff.Role.CASEWORKER)
    url = reverse("admin:municipality_delegation_delete", args=[line.pk])
    response = client.post(url, {"change_reason": "  "})
    assert response.status_code == 400
    line.refresh_from_db()
    assert line.deleted_at is None and not DelegationChange.objects.exists()


def test_no_bulk_removal_without_reasons(client, ulla, org):
    """The changelist offers no bulk delete: each removal has its own reason."""
    lines = list(Delegation.objects.filter(unit=org["unit"]))
    client.post(
        reverse("admin:municipality_delegation_changelist"),
        {"action": "delete_selected", "_selected_action": [x.pk for x in lines], "post": "yes"},
    )
    assert not Delegation.objects.filter(unit=org["unit"], deleted_at__isnull=False).exists()
    assert not DelegationChange.objects.exists()


def test_a_change_needs_a_reason(client, ulla, org):
    response = client.post(
        _add_url("delegation"), _delegation_form(role="caseworker", change_reason="")
    )
    assert response.status_code == 200
    assert "change_reason" in response.context["adminform"].form.errors
    assert not DelegationChange.objects.exists()


def test_decision_types_come_from_the_registry(client, ulla, org):
    """A typo such as "ekonomiskt-bistånd" is refused, not silently saved as a dead line."""
    response = client.post(
        _add_url("delegation"),
        _delegation_form(role="caseworker", decision_type="ekonomiskt-bistånd"),
    )
    assert response.status_code == 200
    assert "decision_type" in response.context["adminform"].form.errors
    form = client.get(_add_url("delegation")).context["adminform"].form
    assert DECISION_TYPE_BISTAND in dict(form.fields["decision_type"].choices)


def test_admin_labels_are_swedish(client, ulla, org):
    html = client.get(_add_url("delegation")).content.decode()
    assert "Beslutstyp" in html and "Skäl till ändringen" in html


def test_substitution_and_second_signer_rule_are_managed_and_versioned(client, ulla, org):
    """Substitutes and second-signer rules go through the same checks and history."""
    erik, maria = org["users"]["erik"], org["users"]["maria"]
    response = client.post(
        _add_url("substitution"),
        {
            "absent": maria.pk,
            "substitute": erik.pk,
            "decision_type": "",
            "valid_from": "2026-07-01",
            "valid_to": "2026-07-31",
            "reference": "Semester",
            "change_reason": "Semester enligt SN § 3/2026",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    substitution = Substitution.objects.get()
    assert substitution.unit == org["unit"]
    response = client.post(
        _add_url("secondsignerrule"),
        {
            "decision_type": DECISION_TYPE_BISTAND,
            "above_amount": "25000",
            "valid_from": "2026-01-01",
            "valid_to": "",
            "reference": "SN 1.3",
            "change_reason": "SN § 4/2026",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert SecondSignerRule.objects.get().unit == org["unit"]
    assert set(DelegationChange.objects.values_list("model", "action")) == {
        ("substitution", "created"),
        ("secondsignerrule", "created"),
    }


def test_history_is_read_only_in_the_admin(client, ulla, org):
    """The administrator reads the history but cannot add, change or delete it."""
    line = Delegation.objects.filter(unit=org["unit"]).first()
    services.delegation_order_save(line=line, admin_user=ulla)
    change = DelegationChange.objects.get()
    assert client.get(reverse("admin:municipality_delegationchange_changelist")).status_code == 200
    assert client.get(_add_url("delegationchange")).status_code == 403
    response = client.post(_change_url(change), {"reason": "edited"})
    assert response.status_code == 403
    delete = reverse("admin:municipality_delegationchange_delete", args=[change.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert DelegationChange.objects.get().reason == ""


# --- what may not be granted ---------------------------------------------------------


def _form_refused(client, url, data, message):
    changes = DelegationChange.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.non_field_errors())
    assert DelegationChange.objects.count() == changes


def test_admin_cannot_grant_themselves_a_delegation(client, ulla, org):
    """Naming oneself as delegate is refused (the user list does not even offer it)."""
    response = client.post(_add_url("delegation"), _delegation_form(user=ulla.pk))
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not Delegation.objects.filter(user=ulla).exists()
    assert not DelegationChange.objects.exists()
    with pytest.raises(services.DelegationOrderError) as exc:
        services.delegation_order_save(
            line=Delegation(
                unit=org["unit"],
                decision_type=DECISION_TYPE_BISTAND,
                user=ulla,
                valid_from=date(2026, 1, 1),
            ),
            admin_user=ulla,
        )
    assert exc.value.code == services.DELEGATION_SELF_GRANT
    assert not Delegation.objects.filter(user=ulla).exists()


def test_admin_cannot_grant_a_role_that_does_not_decide(client, ulla):
    """Auditors, administrators and system accounts hold no delegation."""
    for role in ("auditor", "unit_admin", "system"):
        _form_refused(
            client,
            _add_url("delegation"),
            _delegation_form(role=role),
            services.MESSAGES[services.DELEGATION_ROLE_CANNOT_DECIDE],
        )


def test_admin_cannot_name_someone_from_another_unit(ulla, org, other_unit):
    """Delegates and substitutes are employees of the unit."""
    with pytest.raises(services.DelegationOrderError) as exc:
        services.delegation_order_save(
            line=Substitution(
                unit=org["unit"],
                absent=org["users"]["maria"],
                substitute=other_unit["worker"],
                valid_from=date(2026, 7, 1),
                valid_to=date(2026, 7, 31),
            ),
            admin_user=ulla,
        )
    assert exc.value.code == services.DELEGATION_HOLDER_NOT_IN_UNIT
    assert not Substitution.objects.exists()
    assert not DelegationChange.objects.exists()


def test_service_refuses_another_units_line_and_non_admins(org, other_unit):
    """The service checks again, whatever calls it."""
    ulla, anna = org["users"]["ulla"], org["users"]["anna"]
    line = other_unit["line"]
    line.max_amount = 1
    for user, code in (
        (ulla, services.DELEGATION_OTHER_UNIT),
        (anna, services.DELEGATION_NOT_UNIT_ADMIN),
        (org["users"]["etjanst"], services.DELEGATION_NOT_UNIT_ADMIN),
    ):
        with pytest.raises(services.DelegationOrderError) as exc:
            services.delegation_order_save(line=line, admin_user=user)
        assert exc.value.code == code
        with pytest.raises(services.DelegationOrderError):
            services.delegation_order_delete(line=line, admin_user=user)
    line.refresh_from_db()
    assert line.max_amount is None and line.deleted_at is None
    assert not DelegationChange.objects.exists()


@pytest.mark.usefixtures("fast_pdf")
def test_a_line_used_by_a_decision_can_be_deleted_and_the_decision_keeps_it(org, application):
    """Deleting a line that decisions were signed under keeps the row they point to."""
    from tests.conftest import compile_case, receive
    from tests.gate_helpers import decide

    open_request = compile_case(receive(org, application))
    decision = decide(open_request, org["users"]["anna"])
    services.delegation_order_delete(line=decision.delegation, admin_user=org["users"]["ulla"])
    decision.refresh_from_db()
    assert decision.delegation.deleted_at is not None
    assert decision.delegation.reference == "SN 4.2.1"
