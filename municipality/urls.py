from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from approvals.api import api
from approvals.registry import registry


def _process_urls() -> list:
    """Pages of a process's own (flows/<pkg>/urls.py), under /p/<slug>/ with its namespace."""
    import importlib

    patterns = []
    for spec in registry.all():
        try:
            importlib.import_module(f"{spec.package}.urls")
        except ModuleNotFoundError as exc:
            if exc.name != f"{spec.package}.urls":
                raise
            continue
        patterns.append(path(f"p/{spec.slug}/", include(f"{spec.package}.urls")))
    return patterns


urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    *_process_urls(),
    path("", include("approvals.urls")),
]
