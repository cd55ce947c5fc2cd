"""The database cache table (CACHES["default"]): shared by every web worker, used by the
login throttle. Made here so that `migrate` is the only set-up step."""

from django.core.management import call_command
from django.db import migrations

TABLE = "robotfabrik_cache"


def create(apps, schema_editor):
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("municipality", "0006_staff_personnummer_canonical")]

    operations = [migrations.RunPython(create, drop)]
