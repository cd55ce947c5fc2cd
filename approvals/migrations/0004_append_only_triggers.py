"""The database refuses to change or remove audit events, second signatures and decisions.

PostgreSQL: one trigger function raising restrict_violation, fired BEFORE UPDATE OR
DELETE for each row. TRUNCATE stays possible for the table owner (the test runner
empties tables with it between transactional tests); the application's database
role must not be the owner nor hold TRUNCATE. SQLite (demo): BEFORE UPDATE and
BEFORE DELETE triggers that abort. Decisions keep UPDATE (the flow records
verification and execution times) but can never be deleted.
"""

from django.db import migrations

# (table, operations refused)
GUARDED = [
    ("approvals_auditevent", ("UPDATE", "DELETE")),
    ("approvals_cosignature", ("UPDATE", "DELETE")),
    ("approvals_decision", ("DELETE",)),
]

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION approvals_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""


def _trigger_name(table: str, op: str | None = None) -> str:
    return f"{table}_append_only" if op is None else f"{table}_no_{op.lower()}"


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
        for table, ops in GUARDED:
            schema_editor.execute(
                f"CREATE TRIGGER {_trigger_name(table)} BEFORE {' OR '.join(ops)} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION approvals_refuse_change();"
            )
    elif vendor == "sqlite":
        for table, ops in GUARDED:
            for op in ops:
                schema_editor.execute(
                    f"CREATE TRIGGER {_trigger_name(table, op)} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{op} on {table} is refused: the table is "
                    "append-only'); END;"
                )


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table, _ops in GUARDED:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table)} ON {table};")
        schema_editor.execute("DROP FUNCTION IF EXISTS approvals_refuse_change();")
    elif vendor == "sqlite":
        for table, ops in GUARDED:
            for op in ops:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, op)};")


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0003_second_signature_and_substitution"),
    ]

    operations = [migrations.RunPython(install, remove)]
