"""Reads that feed pages. Querysets only; no rules, no writes."""

from django.db.models import Q, QuerySet

from .models import ApprovalRequest, AuditEvent, Case


def approval_list_for_user(*, user) -> QuerySet[ApprovalRequest]:
    """Open requests the user may see: granted to the user or one of their groups.

    Grants are read directly, never through the superuser shortcut, so a superuser
    sees only what their own unit's grants give them.
    """
    granted = ApprovalRequest.objects.filter(
        approvalrequestgroupobjectpermission__permission__codename="view_approvalrequest",
        approvalrequestgroupobjectpermission__group__user=user,
    ).values("pk")
    granted_directly = ApprovalRequest.objects.filter(
        approvalrequestuserobjectpermission__permission__codename="view_approvalrequest",
        approvalrequestuserobjectpermission__user=user,
    ).values("pk")
    return (
        ApprovalRequest.objects.filter(status=ApprovalRequest.Status.OPEN)
        .filter(Q(pk__in=granted) | Q(pk__in=granted_directly))
        .select_related("case", "material", "assigned_to")
        .order_by("due_date", "pk")
    )


def case_events(*, case: Case) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(case=case).select_related("actor").order_by("seq")


def decision_search(*, params) -> QuerySet:
    """Decisions filtered by the auditor's search form (period, process, outcome, signer)."""
    from .models import Decision

    qs = Decision.objects.select_related("request__case", "request__unit", "signer").order_by(
        "-signed_at"
    )
    if params.get("period"):
        qs = qs.filter(request__case__period=params["period"])
    if params.get("process"):
        qs = qs.filter(request__case__process=params["process"])
    if params.get("outcome"):
        qs = qs.filter(outcome=params["outcome"])
    if params.get("unit"):
        qs = qs.filter(request__unit__code=params["unit"])
    if params.get("signer"):
        qs = qs.filter(signer__username=params["signer"])
    if params.get("changed") == "1":
        qs = qs.filter(followed_proposal=False)
    return qs
