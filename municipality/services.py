"""Changes to the delegation order (delegationsordning), made by a unit administrator.

The Django admin calls these functions and nothing else writes delegation lines,
substitutions or second-signer rules. Each change is checked (who may change what)
and written together with a DelegationChange history row holding both versions, so
that the order in force on any past date can be read back.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from .models import Delegation, DelegationChange, SecondSignerRule, Staff, Substitution, Unit

DELEGATION_NOT_UNIT_ADMIN = "DELEGATION_NOT_UNIT_ADMIN"
DELEGATION_OTHER_UNIT = "DELEGATION_OTHER_UNIT"
DELEGATION_SELF_GRANT = "DELEGATION_SELF_GRANT"
DELEGATION_HOLDER_NOT_IN_UNIT = "DELEGATION_HOLDER_NOT_IN_UNIT"
DELEGATION_ROLE_CANNOT_DECIDE = "DELEGATION_ROLE_CANNOT_DECIDE"

MESSAGES = {
    DELEGATION_NOT_UNIT_ADMIN: "Only a unit administrator changes the delegation order.",
    DELEGATION_OTHER_UNIT: "You administer another unit's delegation order.",
    DELEGATION_SELF_GRANT: "You may not grant a delegation or substitution to yourself.",
    DELEGATION_HOLDER_NOT_IN_UNIT: "Delegates and substitutes must be employees of the unit.",
    DELEGATION_ROLE_CANNOT_DECIDE: "Auditors, administrators and system accounts hold no "
    "delegation.",
}

# Roles that can hold a delegation line; the others review, administer or are machines.
DECIDING_ROLES = (Staff.Role.CASEWORKER, Staff.Role.TEAM_LEADER)

DelegationOrderLine = Delegation | Substitution | SecondSignerRule


class DelegationOrderError(Exception):
    """A refused change to the delegation order; `code` is a named constant."""

    def __init__(self, code: str):
        self.code = code
        self.message = MESSAGES[code]
        super().__init__(f"{code}: {self.message}")


def unit_admin_unit(user) -> Unit | None:
    """The unit whose delegation order the user administers, or None.

    Only an active human unit administrator with a unit qualifies; the superuser and
    staff flags grant nothing here.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    staff = Staff.objects.select_related("unit").filter(user=user).first()
    # Integration and robot accounts, other roles and unit-less staff administer nothing.
    if (
        staff is None
        or staff.kind != Staff.Kind.HUMAN
        or staff.role != Staff.Role.UNIT_ADMIN
        or staff.unit_id is None
    ):
        return None
    return staff.unit


def _people(line: DelegationOrderLine) -> list[int]:
    if isinstance(line, Delegation):
        return [line.user_id] if line.user_id else []
    if isinstance(line, Substitution):
        return [pk for pk in (line.absent_id, line.substitute_id) if pk]
    return []


def delegation_order_check(*, admin_user, line: DelegationOrderLine) -> str | None:
    """The error code that refuses this version of a line, or None when it may be saved."""
    unit = unit_admin_unit(admin_user)
    if unit is None:
        return DELEGATION_NOT_UNIT_ADMIN
    # A unit administrator changes only their own unit's order.
    if line.unit_id != unit.pk:
        return DELEGATION_OTHER_UNIT
    people = _people(line)
    # Granting oneself a power to decide would bypass the committee's order.
    if admin_user.pk in people:
        return DELEGATION_SELF_GRANT
    if isinstance(line, Delegation) and line.role and line.role not in DECIDING_ROLES:
        return DELEGATION_ROLE_CANNOT_DECIDE
    for user_id in people:
        staff = Staff.objects.filter(user_id=user_id).first()
        # Only human employees of this unit can be named delegates or substitutes.
        if staff is None or staff.kind != Staff.Kind.HUMAN or staff.unit_id != unit.pk:
            return DELEGATION_HOLDER_NOT_IN_UNIT
        if isinstance(line, Delegation) and staff.role not in DECIDING_ROLES:
            return DELEGATION_ROLE_CANNOT_DECIDE
    return None


def line_snapshot(line: models.Model) -> dict:
    """Every stored field of a line, as JSON, for the history."""
    data = {f.attname: f.value_from_object(line) for f in line._meta.concrete_fields}
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _locked_before(line: models.Model) -> models.Model | None:
    if line.pk is None:
        return None
    return type(line).objects.select_for_update().filter(pk=line.pk).first()


def delegation_order_save(
    *, line: DelegationOrderLine, admin_user, reason: str = ""
) -> DelegationOrderLine:
    """Create or change a line of the delegation order and record the change."""
    with transaction.atomic():
        before = _locked_before(line)
        error = delegation_order_check(admin_user=admin_user, line=line)
        # The stored version must also be the administrator's unit, and not deleted.
        if error is None and before is not None:
            error = delegation_order_check(admin_user=admin_user, line=before)
            if error is None and before.deleted_at is not None:
                error = DELEGATION_OTHER_UNIT
        if error is not None:
            raise DelegationOrderError(error)
        line.save()
        DelegationChange.objects.create(
            unit_id=line.unit_id,
            model=line._meta.model_name,
            object_id=line.pk,
            action=DelegationChange.Action.CHANGED if before else DelegationChange.Action.CREATED,
            changed_by=admin_user,
            before=line_snapshot(before) if before else None,
            after=line_snapshot(line),
            reason=reason.strip(),
        )
    return line


def delegation_order_delete(*, line: DelegationOrderLine, admin_user, reason: str = "") -> None:
    """Remove a line from the order: marked deleted, kept for the decisions signed under it."""
    with transaction.atomic():
        before = _locked_before(line)
        if before is None or before.deleted_at is not None:
            return
        unit = unit_admin_unit(admin_user)
        if unit is None:
            raise DelegationOrderError(DELEGATION_NOT_UNIT_ADMIN)
        # Only the own unit's lines; a line whose holder has since left may still go.
        if before.unit_id != unit.pk:
            raise DelegationOrderError(DELEGATION_OTHER_UNIT)
        line.deleted_at = timezone.now()
        line.save(update_fields=["deleted_at"])
        DelegationChange.objects.create(
            unit_id=line.unit_id,
            model=line._meta.model_name,
            object_id=line.pk,
            action=DelegationChange.Action.DELETED,
            changed_by=admin_user,
            before=line_snapshot(before),
            after=line_snapshot(line),
            reason=reason.strip(),
        )
