"""Signed records cannot be edited: a decision's signed fields, material, and documents.

A decision keeps UPDATE only for the flow's verification and execution times; material
and documents refuse UPDATE and DELETE. Execution and verify_audit also compare each row
with the hash recorded on the chain when it was made (approvals.integrity), for a table
owner who could disable these triggers.
"""

from django.db import migrations

DECISION_SIGNED_COLUMNS = (
    "request_id", "outcome", "authority_amount", "decided", "grants_amount", "motivation",
    "signer_id", "signer_name", "signer_title", "on_behalf_of_id", "substitution_id",
    "delegation_id", "signed_at", "material_id", "material_sha256", "material_opened_at",
    "followed_proposal", "adjustments", "cosignature_required",
)

PG = """
CREATE OR REPLACE FUNCTION approvals_decision_signed_fields() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - 'verified_at' - 'executed_at')
       IS DISTINCT FROM (to_jsonb(OLD) - 'verified_at' - 'executed_at') THEN
        RAISE EXCEPTION 'decision %: a signed decision cannot be changed', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER approvals_decision_signed_fields BEFORE UPDATE ON approvals_decision
    FOR EACH ROW EXECUTE FUNCTION approvals_decision_signed_fields();
CREATE TRIGGER approvals_material_append_only BEFORE UPDATE OR DELETE ON approvals_material
    FOR EACH ROW EXECUTE FUNCTION approvals_refuse_change();
CREATE TRIGGER approvals_document_append_only BEFORE UPDATE OR DELETE ON approvals_document
    FOR EACH ROW EXECUTE FUNCTION approvals_refuse_change();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS approvals_decision_signed_fields ON approvals_decision;
DROP FUNCTION IF EXISTS approvals_decision_signed_fields();
DROP TRIGGER IF EXISTS approvals_material_append_only ON approvals_material;
DROP TRIGGER IF EXISTS approvals_document_append_only ON approvals_document;
"""

SQLITE = [
    f"""CREATE TRIGGER approvals_decision_signed_fields BEFORE UPDATE OF
        {", ".join(DECISION_SIGNED_COLUMNS)} ON approvals_decision
        BEGIN SELECT RAISE(ABORT, 'a signed decision cannot be changed'); END;""",
    *[
        f"""CREATE TRIGGER approvals_{table}_no_{op.lower()} BEFORE {op} ON approvals_{table}
            BEGIN SELECT RAISE(ABORT, '{op} on approvals_{table} is refused: the table is
            append-only'); END;"""
        for table in ("material", "document")
        for op in ("UPDATE", "DELETE")
    ],
]
SQLITE_NAMES = [
    "approvals_decision_signed_fields",
    "approvals_material_no_update",
    "approvals_material_no_delete",
    "approvals_document_no_update",
    "approvals_document_no_delete",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)
    elif vendor == "sqlite":
        for name in SQLITE_NAMES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};", params=None)


class Migration(migrations.Migration):
    dependencies = [("approvals", "0010_completion_and_callbacks")]

    operations = [migrations.RunPython(install, remove)]
