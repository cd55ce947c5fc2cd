"""Login through the municipality's identity provider (OpenID Connect, issue 10 point 2).

mozilla-django-oidc does the authorization-code flow (state, nonce, PKCE, token request,
RS256 signature against the provider's JWKS); this module adapts it:

- configuration from the environment (municipality.settings): the issuer's discovery
  document gives the endpoints unless they are set one by one; off when no client id;
- a login is an existing account's only: the ID token's `sub` must be a human Staff's
  `oidc_subject` (set by an administrator). No account is ever created or given grants
  from a login; an unknown subject gets a clear page and an event on the trail;
- the ID token's issuer and audience are checked (the library checks neither);
- the ID token's `auth_time` becomes the session's authentication
  (municipality.authentication), which signing requires to be recent; a re-login from
  the case page asks the provider for prompt=login and max_age=0 and checks that the
  new auth_time is indeed new.
"""

import hashlib
import logging
import threading
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from approvals import rules
from approvals.audit import audit_append

from .authentication import SESSION_KEY, authentication_store, reauthenticated_record

logger = logging.getLogger("robotfabrik.security")

BACKEND = "municipality.oidc.StaffOIDCBackend"
# The trail's event for a login at the identity provider that matched no account.
LOGIN_REFUSED = "auth.oidc_refused"
# Where in the session a re-login from the case page waits for its answer.
REAUTH_SESSION_KEY = "robotfabrik_oidc_reauth"

# Endpoint settings and the discovery document's name for each.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


class OIDCUnavailable(Exception):
    """The identity provider's discovery document could not be had (or does not fit)."""


_discovery: dict[str, dict] = {}
_discovery_lock = threading.Lock()


def oidc_enabled() -> bool:
    """On when a client id is configured and the backend is among the login backends."""
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", "")) and BACKEND in getattr(
        settings, "AUTHENTICATION_BACKENDS", []
    )


def provider_configuration(issuer: str) -> dict:
    """The issuer's discovery document (fetched once per process and issuer)."""
    with _discovery_lock:
        if issuer in _discovery:
            return _discovery[issuer]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OIDCUnavailable(f"discovery at {url} failed: {exc}") from exc
    if not isinstance(document, dict) or document.get("issuer") != issuer:
        raise OIDCUnavailable(f"discovery at {url} names another issuer")
    with _discovery_lock:
        _discovery[issuer] = document
    return document


def oidc_setting(attr, *args):
    """A mozilla-django-oidc setting; empty endpoints come from the issuer's discovery."""
    if attr in DISCOVERED and not getattr(settings, attr, ""):
        issuer = getattr(settings, "OIDC_OP_ISSUER", "")
        if issuer:
            value = provider_configuration(issuer).get(DISCOVERED[attr])
            if value:
                return value
        if args:
            return args[0]
    return import_from_settings(attr, *args)


def _auth_time(payload: dict) -> datetime | None:
    value = payload.get("auth_time")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, tz=UTC)


class StaffOIDCBackend(OIDCAuthenticationBackend):
    """The ID token's subject to an existing human Staff account, or nobody.

    Settings are read when used, not when the backend is made: Django makes a backend for
    every request of a session logged in by it, which must not wait for the provider.
    """

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()

    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: oidc_setting("OIDC_OP_TOKEN_ENDPOINT"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: oidc_setting("OIDC_OP_USER_ENDPOINT", ""))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: oidc_setting("OIDC_OP_JWKS_ENDPOINT"))
    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: settings.OIDC_RP_CLIENT_SECRET)
    OIDC_RP_SIGN_ALGO = property(lambda self: settings.OIDC_RP_SIGN_ALGO)
    OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request, **kwargs):
        # Only the callback (which passes the session's nonce) runs the code flow: a
        # password login with ?code=&state= in its address is no OIDC login.
        if "nonce" not in kwargs or not oidc_enabled():
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        issuer = getattr(settings, "OIDC_OP_ISSUER", "")
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation("ID token from another issuer")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token for another client")
        if "exp" not in payload:
            raise SuspiciousOperation("ID token without expiry")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        """The Staff whose oidc_subject is the token's sub; never a new account."""
        from .models import Staff

        subject = payload.get("sub")
        staff = (
            Staff.objects.select_related("user")
            .filter(oidc_subject=subject, kind=Staff.Kind.HUMAN)
            .first()
            if isinstance(subject, str) and subject
            else None
        )
        if staff is None or not staff.user.is_active:
            reason = "unknown_subject" if staff is None else "inactive"
            self.request.oidc_refusal = reason
            audit_append(
                kind=LOGIN_REFUSED,
                actor_label="identity provider",
                data={
                    "reason": reason,
                    "issuer": payload.get("iss", ""),
                    # The subject hashed: some providers use a personnummer as subject.
                    "subject_sha256": hashlib.sha256(str(subject).encode()).hexdigest(),
                },
            )
            logger.warning("OIDC login refused: %s", reason)
            return None
        user = staff.user
        user.oidc_auth_time = _auth_time(payload)
        return user

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


REFUSALS = {
    "unknown_subject": (
        403,
        gettext_lazy(
            "Your login at the identity provider is not linked to any account in "
            "Robotfabrik. Ask your unit administrator to link it; until then, nothing can "
            "be done with this login."
        ),
    ),
    "inactive": (403, gettext_lazy("This account is not active.")),
    "invalid": (
        400,
        gettext_lazy(
            "The answer from the identity provider could not be verified (it may be old or "
            "already used). Start the login again."
        ),
    ),
    "unavailable": (
        502,
        gettext_lazy("The identity provider does not answer. Try again in a moment."),
    ),
    "failed": (403, gettext_lazy("The identity provider did not log you in.")),
}


def _refusal(request, reason: str):
    status, message = REFUSALS[reason]
    return render(
        request,
        "registration/oidc_refused.html",
        {"message": message, "reason": reason},
        status=status,
    )


class StaffOIDCAuthenticationRequestView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider; ?reauth=1 asks it for a new login (prompt=login)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        View.__init__(self, *args, **kwargs)
        self.reauth = False

    def get(self, request):
        if not oidc_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except OIDCUnavailable as exc:
            logger.warning("OIDC unavailable: %s", exc)
            return _refusal(request, "unavailable")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.reauth = request.GET.get("reauth") == "1" and request.user.is_authenticated
        response = super().get(request)
        if self.reauth:
            request.session[REAUTH_SESSION_KEY] = {"started": timezone.now().isoformat()}
        else:
            request.session.pop(REAUTH_SESSION_KEY, None)
        return response

    def get_extra_params(self, request):
        params = dict(super().get_extra_params(request))
        if self.reauth:
            # A new login now, whatever session the provider holds (OIDC Core 3.1.2.1).
            params.update(prompt="login", max_age="0")
        return params


class StaffOIDCCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: logged in (with auth_time recorded), or a clear refusal."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        if not oidc_enabled():
            raise Http404
        try:
            return super().get(request)
        except SuspiciousOperation as exc:
            # Unknown or reused state, wrong nonce, bad signature, issuer or audience.
            logger.warning("OIDC callback refused: %s", exc)
            return _refusal(request, "invalid")
        except (requests.RequestException, OIDCUnavailable) as exc:
            logger.warning("OIDC provider unavailable at callback: %s", exc)
            return _refusal(request, "unavailable")

    def login_failure(self):
        return _refusal(self.request, getattr(self.request, "oidc_refusal", None) or "failed")

    def login_success(self):
        reauth = self.request.session.pop(REAUTH_SESSION_KEY, None)
        response = super().login_success()
        auth_time = getattr(self.user, "oidc_auth_time", None)
        if reauth is not None:
            started = datetime.fromisoformat(reauth["started"])
            skew = timedelta(seconds=rules.AUTH_CLOCK_SKEW_SECONDS)
            if auth_time is None or auth_time < started - skew:
                # The provider answered from an older login: that is no new proof.
                messages.error(
                    self.request,
                    _(
                        "The identity provider did not ask for your login again. Nothing was signed."
                    ),
                )
                return response
            reauthenticated_record(self.request, method=rules.AUTH_OIDC, at=auth_time)
            messages.success(self.request, _("You have confirmed who you are. You can sign now."))
        elif auth_time is not None:
            authentication_store(self.request.session, method=rules.AUTH_OIDC, at=auth_time)
        else:
            # Logged in, but the provider did not say when: reading yes, signing after a
            # re-login (which asks with max_age, so auth_time must come).
            self.request.session.pop(SESSION_KEY, None)
        return response
