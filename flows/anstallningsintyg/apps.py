from django.apps import AppConfig


class AnstallningsintygConfig(AppConfig):
    name = "flows.anstallningsintyg"
    label = "anstallningsintyg"
    verbose_name = "Anställningsintyg och arbetsgivarintyg"
