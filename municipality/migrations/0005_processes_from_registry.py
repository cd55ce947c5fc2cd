"""Processes are declared in code (approvals.registry), no longer rows in the database.

The operators' permission moves to Unit, keeping its grants to groups and users.
"""

from django.db import migrations


def move_permission(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    unit_type, _ = ContentType.objects.get_or_create(app_label="municipality", model="unit")
    Permission.objects.filter(
        content_type__app_label="municipality", content_type__model="process",
        codename="view_operations",
    ).update(content_type=unit_type)


def move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    process_type, _ = ContentType.objects.get_or_create(app_label="municipality", model="process")
    Permission.objects.filter(
        content_type__app_label="municipality", content_type__model="unit",
        codename="view_operations",
    ).update(content_type=process_type)


class Migration(migrations.Migration):
    dependencies = [
        ("municipality", "0004_process_owner_and_operations_permission"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="unit",
            options={
                "ordering": ["name"],
                "permissions": [("view_operations", "Can see the robot catalogue and health")],
            },
        ),
        migrations.RunPython(move_permission, move_back),
        migrations.DeleteModel(name="Process"),
    ]
