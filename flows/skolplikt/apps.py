from django.apps import AppConfig


class SkolpliktConfig(AppConfig):
    name = "flows.skolplikt"
    label = "skolplikt"
    verbose_name = "Bevakning av skolplikten"
