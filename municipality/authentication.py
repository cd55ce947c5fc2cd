"""When and how the person in a session last proved who they are (issue 10, point 2).

Signing needs a recent authentication (SIGNING_FRESH_AUTH_SECONDS): the login page and
the OpenID Connect callback (municipality.oidc) record it in the session, the signing
views hand it to the gate (approvals.services.signing.decision_sign), and the gate
records it with the signature. A session made any other way (Django's test client's
force_login, a session older than this feature) carries no record: it may read, not sign.

On the case page a stale record is renewed in place: the password again for a password
login, a new login at the identity provider (prompt=login, max_age=0) for an OIDC one.
"""

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from approvals import rules
from approvals.audit import actor_label_for, audit_append

SESSION_KEY = "robotfabrik_authentication"
# The trail's event for a renewed authentication (the password or the IdP again).
REAUTHENTICATED = "auth.reauthenticated"


def authentication_store(session, *, method: str, at: datetime) -> None:
    """Record in the session that its person authenticated at `at` by `method`."""
    if method not in rules.AUTH_METHODS:
        raise ValueError(f"unknown authentication method {method!r}")
    session[SESSION_KEY] = {"method": method, "at": at.isoformat()}


def authentication_of(request) -> rules.Authentication | None:
    """The session's record, for the gate; None when there is none (or it is unreadable)."""
    record = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not isinstance(record, dict):
        return None
    try:
        at = datetime.fromisoformat(record["at"])
        method = str(record["method"])
    except (KeyError, TypeError, ValueError):
        return None
    if timezone.is_naive(at):
        return None
    return rules.Authentication(method=method, at=at)


def authentication_is_fresh(request) -> bool:
    return (
        rules.authentication_is_fresh(
            authentication_of(request),
            now=timezone.now(),
            window_seconds=settings.SIGNING_FRESH_AUTH_SECONDS,
        )
        is None
    )


def reauthentication_offer(request) -> dict | None:
    """What the case page offers when the session's authentication is too old to sign.

    None when it is fresh. Otherwise {"method": "oidc"} for a person who logged in at
    the identity provider (or has no usable password), {"method": "password"} else.
    """
    if authentication_is_fresh(request):
        return None
    from . import oidc

    record = authentication_of(request)
    user = request.user
    if oidc.oidc_enabled() and (
        (record is not None and record.method == rules.AUTH_OIDC) or not user.has_usable_password()
    ):
        return {"method": rules.AUTH_OIDC, "minutes": _window_minutes()}
    if user.has_usable_password():
        return {"method": rules.AUTH_PASSWORD, "minutes": _window_minutes()}
    return None


def _window_minutes() -> int:
    return max(1, round(settings.SIGNING_FRESH_AUTH_SECONDS / 60))


def _audit_reauthenticated(user, method: str, at: datetime) -> None:
    audit_append(
        kind=REAUTHENTICATED,
        actor=user,
        actor_label=actor_label_for(user),
        data={"method": method, "at": at.isoformat()},
    )


def reauthenticated_record(request, *, method: str, at: datetime) -> None:
    """A renewed authentication: in the session, and on the trail."""
    authentication_store(request.session, method=method, at=at)
    _audit_reauthenticated(request.user, method, at)


class PasswordLoginView(auth_views.LoginView):
    """Django's login page, recording the password login as the session's authentication."""

    def form_valid(self, form):
        response = super().form_valid(form)
        authentication_store(self.request.session, method=rules.AUTH_PASSWORD, at=timezone.now())
        return response

    def get_context_data(self, **kwargs):
        from . import oidc

        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc.oidc_enabled()
        return context


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default)


@login_required
@require_POST
def password_reauthenticate(request):
    """The password again, from the case page: the session may sign for another window.

    The check goes through authenticate() like a login, so the login throttle counts a
    wrong password here too.
    """
    from django.contrib.auth import authenticate
    from django.core.exceptions import PermissionDenied

    target = _safe_next(request, settings.LOGIN_REDIRECT_URL)
    password = request.POST.get("password", "")
    try:
        user = authenticate(request, username=request.user.get_username(), password=password)
    except PermissionDenied:
        user = None
    if user is None or user.pk != request.user.pk:
        messages.error(request, _("The password was not right. Nothing was signed."))
        return HttpResponseRedirect(target)
    reauthenticated_record(request, method=rules.AUTH_PASSWORD, at=timezone.now())
    messages.success(request, _("You have confirmed who you are. You can sign now."))
    return HttpResponseRedirect(target)
