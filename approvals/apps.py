from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals and decisions"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers system checks)
        from .registry import autodiscover

        # Every process package's declaration (flows/<name>/process.py), like the admin's
        # autodiscovery; the system checks then refuse an inconsistent one.
        autodiscover()
