from django.apps import AppConfig


class KassaavstamningConfig(AppConfig):
    """The cash-reconciliation robot's package (parsers, matching, the ``reconcile`` command)."""

    name = "flows.kassaavstamning"
    label = "kassaavstamning"
    verbose_name = "Kassaavstämning"
