"""Template helpers of the library renewal pages."""

from django import template

from approvals import access

register = template.Library()


@register.filter
def may_settle(request, user) -> bool:
    """Whether `user` may settle the exception request now (its unit and grant, not held
    by a colleague): the form is shown only to them; the view checks again."""
    if request is None or request.status != "open":
        return False
    return access.may_settle_exception(user=user, request=request) and (
        request.assigned_to_id in (None, user.pk)
    )
