"""System checks that fail start-up when the gate's supporting pieces are missing."""

from django.conf import settings
from django.core.checks import Error, register

GUARDIAN_BACKEND = "guardian.backends.ObjectPermissionBackend"


@register()
def guardian_backend_installed(app_configs, **kwargs):
    # Without the object-permission backend every per-case permission check
    # silently answers "no" for humans and the inbox would show nothing.
    if GUARDIAN_BACKEND not in settings.AUTHENTICATION_BACKENDS:
        return [
            Error(
                "django-guardian's ObjectPermissionBackend is not in AUTHENTICATION_BACKENDS.",
                id="approvals.E001",
            )
        ]
    return []
