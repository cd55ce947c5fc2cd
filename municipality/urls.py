from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from approvals.api import api
from approvals.registry import registry

from . import oidc
from .authentication import PasswordLoginView, password_reauthenticate
from .health import healthz
from .login_throttle import ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm
from .password_policy import OwnPasswordChangeView


def _process_urls() -> list:
    """Pages of a process's own (flows/<pkg>/urls.py), under /p/<slug>/ with its namespace."""
    import importlib

    patterns = []
    for spec in registry.all():
        try:
            importlib.import_module(f"{spec.package}.urls")
        except ModuleNotFoundError as exc:
            # No such module, or a process declared outside flows/ (e.g. a test's).
            if exc.name not in (f"{spec.package}.urls", spec.package):
                raise
            continue
        module = importlib.import_module(f"{spec.package}.urls")
        patterns.append(path(f"p/{spec.slug}/", include(f"{spec.package}.urls")))
        # A few public addresses printed on documents (e.g. /verify/<code>/) sit at the root.
        patterns.extend(getattr(module, "root_urlpatterns", []))
    return patterns


# The admin's own login counts failures in the same throttle as the staff login.
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path(
        "accounts/login/",
        PasswordLoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    # The password again (case page), or the identity provider (municipality.oidc).
    path("accounts/reauthenticate/", password_reauthenticate, name="reauthenticate"),
    path(
        "oidc/authenticate/",
        oidc.StaffOIDCAuthenticationRequestView.as_view(),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/", oidc.StaffOIDCCallbackView.as_view(), name="oidc_authentication_callback"
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The owner's own change (clears a password someone else set: municipality.password_policy).
    path(
        "accounts/password/",
        OwnPasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    *_process_urls(),
    path("", include("approvals.urls")),
]
