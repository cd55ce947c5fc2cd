"""The database refuses to change or remove a row of the delegation order's history.

Same guard as approvals 0004: PostgreSQL trigger raising restrict_violation BEFORE
UPDATE OR DELETE (TRUNCATE stays with the table owner); SQLite triggers that abort.
"""

from django.db import migrations

TABLE = "municipality_delegationchange"

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION municipality_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION municipality_refuse_change();"
        )
    elif vendor == "sqlite":
        for op in ("UPDATE", "DELETE"):
            schema_editor.execute(
                f"CREATE TRIGGER {TABLE}_no_{op.lower()} BEFORE {op} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{op} on {TABLE} is refused: the table is "
                "append-only'); END;"
            )


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};")
        schema_editor.execute("DROP FUNCTION IF EXISTS municipality_refuse_change();")
    elif vendor == "sqlite":
        for op in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op};")


class Migration(migrations.Migration):
    dependencies = [
        ("municipality", "0002_delegation_order_substitution_second_signer"),
    ]

    operations = [migrations.RunPython(install, remove)]
