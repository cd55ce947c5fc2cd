"""Login throttling: a username tried from one address is locked after repeated failures.

Counted per (username, client address) in the database cache, so every web worker and
every login form (the staff login and the admin's) shares one count, and a restart does
not reset it. While locked, even the right password is refused: guessing cannot go on
by luck. A successful login clears the count.

The authentication backend enforces the lock (every path through ``authenticate`` is
covered); the login forms only turn it into a clear message.
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("robotfabrik.security")

LOGIN_THROTTLED = "login_throttled"
LOGIN_THROTTLED_MESSAGE = _(
    "Too many failed logins for this username. Logging in is blocked for %(minutes)s "
    "minutes; wait, or ask the unit administrator."
)


def client_address(request) -> str:
    """The address the throttle counts by (LOGIN_CLIENT_IP_META, REMOTE_ADDR by default)."""
    if request is None:
        return "-"
    return request.META.get(settings.LOGIN_CLIENT_IP_META) or request.META.get("REMOTE_ADDR", "-")


def _key(*, username: str, address: str) -> str:
    # Hashed: the cache table is no place for usernames, and keys have a length limit.
    digest = hashlib.sha256(f"{username.strip().casefold()}\0{address}".encode()).hexdigest()
    return f"login-failures:{digest}"


def login_failures(*, username: str, address: str) -> int:
    return int(cache.get(_key(username=username, address=address), 0))


def login_locked(*, username: str, address: str) -> bool:
    return login_failures(username=username, address=address) >= settings.LOGIN_FAILURE_LIMIT


def login_failure_record(*, username: str, address: str) -> int:
    """Count one failure; the lock lasts LOGIN_LOCKOUT_SECONDS after the latest one."""
    key = _key(username=username, address=address)
    failures = int(cache.get(key, 0)) + 1
    cache.set(key, failures, timeout=settings.LOGIN_LOCKOUT_SECONDS)
    if failures == settings.LOGIN_FAILURE_LIMIT:
        logger.warning("login locked after %s failures from %s", failures, address)
    return failures


def login_failures_clear(*, username: str, address: str) -> None:
    cache.delete(_key(username=username, address=address))


class ThrottledModelBackend(ModelBackend):
    """Django's ModelBackend that refuses a locked (username, address) pair outright."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if password is None:
            # Not a password login (e.g. the OpenID Connect callback): nothing to count.
            return None
        if username is None:
            username = kwargs.get(self._username_field(), "")
        username = username or ""
        address = client_address(request)
        if login_locked(username=username, address=address):
            # PermissionDenied stops django.contrib.auth.authenticate for every backend.
            raise PermissionDenied(LOGIN_THROTTLED)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(username=username, address=address)
        else:
            login_failures_clear(username=username, address=address)
        return user

    def get_user(self, user_id):
        # The account's password mark comes with it (municipality.password_policy asks on
        # every page): one query per request, as before.
        from django.contrib.auth import get_user_model

        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("password_must_change").get(
                pk=user_id
            )
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


def lockout_error() -> ValidationError:
    return ValidationError(
        LOGIN_THROTTLED_MESSAGE,
        code=LOGIN_THROTTLED,
        params={"minutes": max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)},
    )


class ThrottledFormMixin:
    """Says "blocked, wait" instead of "wrong password" while the pair is locked."""

    throttled = False

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if login_locked(username=username, address=client_address(self.request)):
            self.throttled = True
            raise lockout_error()
        try:
            return super().clean()
        except ValidationError:
            # This failure may have been the one that locked the pair.
            if login_locked(username=username, address=client_address(self.request)):
                self.throttled = True
                raise lockout_error() from None
            raise


class ThrottledAuthenticationForm(ThrottledFormMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledFormMixin, AdminAuthenticationForm):
    pass
