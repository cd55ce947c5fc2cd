from django.apps import AppConfig


class SchemalaggningConfig(AppConfig):
    name = "flows.schemalaggning"
    label = "schemalaggning"
    verbose_name = "Schemaläggning av vårdpersonal"
