"""Template helpers of the certificate pages."""

from django import template

from approvals import access

register = template.Library()


@register.filter
def may_settle(approval, user) -> bool:
    """Whether the settlement form is shown: approvals.access decides, as the view does."""
    if approval is None or user is None or not user.is_authenticated:
        return False
    return access.may_settle_exception(user=user, request=approval) and (
        approval.assigned_to_id in (None, user.pk)
    )
