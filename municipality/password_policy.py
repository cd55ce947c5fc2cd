"""A password someone else set is changed by its owner before anything else (issue 10).

municipality.account_audit marks the account (PasswordMustChange) when another account,
or a command outside any request, sets its password, and removes the mark when the owner
changes it herself. Two places enforce it:

- the gate (approvals.access.signer_password_problem, called by decision_sign for first
  and second signatures) refuses the signature, and the refusal goes on the trail;
- PasswordMustChangeMiddleware sends the owner from every page to the password-change
  page. The signing view is let through (it is marked with
  :func:`refusal_recorded_by_gate`) so that an attempt to sign is refused by the gate
  and recorded, not silently redirected.
"""

from django.contrib.auth.views import PasswordChangeView
from django.shortcuts import redirect

from .models import PasswordMustChange

# Pages the marked owner still reaches: changing the password, leaving, the language.
ALLOWED_URL_NAMES = {
    "password_change",
    "password_change_done",
    "logout",
    "login",
    "set_language",
    "healthz",
    "admin:password_change",
    "admin:password_change_done",
    "admin:logout",
    "admin:login",
}


def password_must_change(user, *, fresh: bool = True) -> bool:
    """Whether the account's password was set by someone else and not yet changed by her.

    ``fresh`` reads the table (the gate); otherwise the mark loaded with the request's
    user (municipality.login_throttle.ThrottledModelBackend.get_user) is used, and read
    only if it was not loaded.
    """
    if user is None or not user.is_authenticated or user.pk is None:
        return False
    if fresh:
        return PasswordMustChange.objects.filter(user_id=user.pk).exists()
    try:
        user.password_must_change  # noqa: B018 - cached by select_related, else one query
    except PasswordMustChange.DoesNotExist:
        return False
    return True


def refusal_recorded_by_gate(view):
    """Mark a view whose service refuses a marked account itself (and records the refusal)."""
    view.password_must_change_checked_by_gate = True
    return view


class PasswordMustChangeMiddleware:
    """After login, a marked account sees only the password-change page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED_URL_NAMES:
            return None
        if getattr(view_func, "password_must_change_checked_by_gate", False):
            return None
        if not password_must_change(user, fresh=False):
            return None
        return redirect("password_change")


class OwnPasswordChangeView(PasswordChangeView):
    """Django's password change, saying why when the password was set by someone else."""

    template_name = "registration/password_change.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["must_change"] = password_must_change(self.request.user)
        return context
