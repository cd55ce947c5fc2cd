from django.apps import AppConfig


class MunicipalityConfig(AppConfig):
    name = "municipality"
    verbose_name = "Organisation"

    def ready(self):
        # Account changes go on the audit trail whatever makes them (admin, shell, commands).
        from . import account_audit

        account_audit.connect()
