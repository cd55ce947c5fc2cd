from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from approvals.api import api

from .health import healthz
from .login_throttle import ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm

# The admin's own login counts failures in the same throttle as the staff login.
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("approvals.urls")),
]
