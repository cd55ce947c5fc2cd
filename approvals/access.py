"""Who may see, hold, sign or settle what: every such check of the project lives here.

Grants are read from the tables, never through `has_perm`: Django and guardian
answer True for every active superuser, and the superuser flag grants nothing in
this product. Each denying branch says why. Reads of case data are logged here too.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q

from municipality.models import Staff

from . import rules
from .audit import Kind, actor_label_for, audit_append
from .models import (
    ApprovalRequest,
    ApprovalRequestGroupObjectPermission,
    ApprovalRequestUserObjectPermission,
    AuditEvent,
    Case,
    CaseGroupObjectPermission,
    CaseUserObjectPermission,
)

SIGN = "sign_approvalrequest"
VIEW = "view_approvalrequest"
VIEW_CASE = "view_case"

_GRANT_MODELS = {
    ApprovalRequest: (ApprovalRequestUserObjectPermission, ApprovalRequestGroupObjectPermission),
    Case: (CaseUserObjectPermission, CaseGroupObjectPermission),
}


def staff_of(user) -> Staff | None:
    if user is None or user.pk is None:
        return None
    return Staff.objects.filter(user=user).first()


def holds_object_perm(*, user, codename: str, obj) -> bool:
    """Whether the user holds an object permission through a grant, never through a flag."""
    # An inactive account holds nothing, whatever its grants say.
    if not user.is_active:
        return False
    user_model, group_model = _GRANT_MODELS[type(obj)]
    return (
        user_model.objects.filter(
            content_object=obj, permission__codename=codename, user=user
        ).exists()
        or group_model.objects.filter(
            content_object=obj, permission__codename=codename, group__user=user
        ).exists()
    )


def human_grant_held(user, *, app_label: str, codename: str) -> bool:
    """Whether the user holds a global grant as a human employee, read from the tables.

    Serves the pages outside casework (the audit trail, the robot catalogue).
    """
    # Anonymous and inactive accounts hold nothing.
    if not user.is_authenticated or not user.is_active:
        return False
    staff = staff_of(user)
    # Integration and robot accounts never get in, whatever they were granted.
    if staff is None or staff.kind != Staff.Kind.HUMAN:
        return False
    return (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .filter(Q(user=user) | Q(group__user=user))
        .exists()
    )


def signer_password_problem(user) -> str | None:
    """A refusal code when the signer's password was set by someone else, else None.

    Whoever set it (an administrator's reset, a command) knows it and could sign as her;
    only after she changed it herself is the signature hers (municipality.password_policy).
    """
    from municipality.password_policy import password_must_change

    return rules.DECISION_SIGNER_PASSWORD_NOT_OWN if password_must_change(user) else None


def may_audit(user) -> bool:
    """The auditor's pages: the audit-trail grant held by a human employee."""
    return human_grant_held(user, app_label="approvals", codename="view_audit_trail")


def may_operate(user) -> bool:
    """The robot catalogue: the operations grant held by a human employee."""
    return human_grant_held(user, app_label="municipality", codename="view_operations")


def may_view_case(*, user, case: Case) -> bool:
    """The case page: the case's view grant (given to its unit's group at intake)."""
    return holds_object_perm(user=user, codename=VIEW_CASE, obj=case)


def may_sign(*, user, request: ApprovalRequest) -> bool:
    """The first conditions of the gate: staff of the request's unit with the sign grant.

    Delegation, limits and the rest of the gate are checked by signing.decision_sign.
    """
    # Object permission, not a global flag: a superuser without it is refused too.
    return Staff.objects.filter(user=user, unit_id=request.unit_id).exists() and holds_object_perm(
        user=user, codename=SIGN, obj=request
    )


def may_work_on(*, user, request: ApprovalRequest) -> bool:
    """Whether the user may hold the request: an active human of its unit with the sign grant.

    The same first conditions the gate checks, so that nobody is handed a case they
    could never sign (or an exception they could never settle).
    """
    staff = staff_of(user)
    # Integration and robot accounts, other units' staff and people without the grant
    # never hold a case; a superuser flag does not change that (grants are read directly).
    if staff is None or not staff.is_human or staff.unit_id != request.unit_id:
        return False
    return holds_object_perm(user=user, codename=SIGN, obj=request)


def may_settle_exception(*, user, request: ApprovalRequest) -> bool:
    """An exception is settled by an active human of the owning unit holding its grant."""
    # A decision request is never settled this way: it passes the gate.
    if request.kind != ApprovalRequest.Kind.EXCEPTION:
        return False
    return may_work_on(user=user, request=request)


def is_team_leader_of(*, user, request: ApprovalRequest) -> bool:
    """Whether the user is a human team leader of the request's unit who can see it."""
    staff = staff_of(user)
    # A team leader of another unit, or anyone else, does not lead this unit's work.
    if (
        staff is None
        or not staff.is_human
        or staff.role != Staff.Role.TEAM_LEADER
        or staff.unit_id != request.unit_id
    ):
        return False
    return holds_object_perm(user=user, codename=VIEW, obj=request)


def holds_grant_q(*, request_ref, codename: str) -> Q:
    """Users holding `codename` on a request through a group or a direct grant."""
    via_group = ApprovalRequestGroupObjectPermission.objects.filter(
        content_object=request_ref, permission__codename=codename, group__user=OuterRef("pk")
    )
    direct = ApprovalRequestUserObjectPermission.objects.filter(
        content_object=request_ref, permission__codename=codename, user=OuterRef("pk")
    )
    return Q(Exists(via_group)) | Q(Exists(direct))


def colleagues_for(*, request: ApprovalRequest) -> list:
    """People a team leader may assign the request to: those who may work on it."""
    User = get_user_model()
    return list(
        User.objects.filter(
            is_active=True,
            staff__kind=Staff.Kind.HUMAN,
            staff__unit_id=request.unit_id,
        )
        .filter(holds_grant_q(request_ref=request.pk, codename=SIGN))
        .order_by("first_name", "last_name", "username")
    )


# --- reads are logged --------------------------------------------------------------------

_READ_KINDS = {
    "material": Kind.MATERIAL_VIEWED,
    "material_pdf": Kind.MATERIAL_VIEWED,
    "letter_pdf": Kind.DOCUMENT_VIEWED,
    "document_pdf": Kind.DOCUMENT_VIEWED,
    "audit_material_html": Kind.MATERIAL_VIEWED,
    "audit_material_pdf": Kind.MATERIAL_VIEWED,
    "audit_letter_pdf": Kind.DOCUMENT_VIEWED,
    "audit_document_pdf": Kind.DOCUMENT_VIEWED,
}


def case_access_record(
    *, user, case: Case, what: str, material=None, purpose: str = "casework"
) -> AuditEvent:
    """Log a read of case data: who, when, what, why, and whether they had an open assignment.

    `purpose` is "audit" for the auditor's pages, so that the access-log review can
    tell a granted audit read from a caseworker's read without an open assignment.
    """
    open_request = case.requests.filter(
        status__in=[ApprovalRequest.Status.OPEN, ApprovalRequest.Status.AWAITING_SECOND]
    ).first()
    had_assignment = bool(
        open_request
        and (
            open_request.assigned_to_id in (None, user.pk)
            # A request waiting for a second signature is open to every delegate.
            or open_request.status == ApprovalRequest.Status.AWAITING_SECOND
        )
        and holds_object_perm(user=user, codename=VIEW, obj=open_request)
    )
    # A reader who is one of the people the case is about (jäv): flagged for the review.
    own = getattr(staff_of(user), "personnummer", "")
    conflicted = bool(own) and case.parties.filter(personnummer=own).exists()
    return audit_append(
        kind=_READ_KINDS.get(what, Kind.CASE_VIEWED),
        actor=user,
        actor_label=actor_label_for(user),
        case=case,
        material=material,
        data={
            "what": what,
            "open_assignment": had_assignment,
            "purpose": purpose,
            **({"conflict_of_interest": True} if conflicted else {}),
        },
    )


def audit_page_record(*, user, page: str, filters: dict) -> AuditEvent:
    """Log an auditor's page that shows no single case (search, statistics, access log)."""
    return audit_append(
        kind=Kind.AUDIT_VIEWED,
        actor=user,
        actor_label=actor_label_for(user),
        data={
            "page": page,
            "filters": {
                k: str(v) for k, v in sorted(filters.items()) if v not in (None, "", False)
            },
            "purpose": "audit",
        },
    )


def may_write_note(*, user, case: Case) -> bool:
    """Journal notes: an active human of the case's unit who holds the case's view grant.

    Caseworkers and team leaders document the handling (SoL 11 kap. 5 §); auditors,
    process owners and robot or integration accounts read, never write.
    """
    staff = staff_of(user)
    if staff is None or not staff.is_human or staff.unit_id != case.unit_id:
        return False
    if staff.role not in (Staff.Role.CASEWORKER, Staff.Role.TEAM_LEADER):
        return False
    return may_view_case(user=user, case=case)


def is_team_leader(user) -> bool:
    """A human team leader with a unit: the team view."""
    staff = staff_of(user)
    return bool(
        user.is_active
        and staff is not None
        and staff.is_human
        and staff.role == Staff.Role.TEAM_LEADER
        and staff.unit_id is not None
    )
