from django.apps import AppConfig


class BibliotekAterlanConfig(AppConfig):
    name = "flows.bibliotek_aterlan"
    label = "bibliotek_aterlan"
    verbose_name = "Återlån på biblioteket"
