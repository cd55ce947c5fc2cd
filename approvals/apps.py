from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals and decisions"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers system checks)
