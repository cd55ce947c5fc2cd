from django.apps import AppConfig


class EkonomisktBistandConfig(AppConfig):
    name = "flows.ekonomiskt_bistand"
    label = "ekonomiskt_bistand"
    verbose_name = "Återansökan av ekonomiskt bistånd"
