"""A decision records whether its outcome grants a sum, so that the database can hold
the rest: changed lines only then, and the sum stated. And an approval of a request that
proposes a sum states the sum it approves (a trigger: the rule spans two tables)."""

from django.db import migrations, models
from django.db.models import Q

PG = """
CREATE OR REPLACE FUNCTION approvals_decision_amount_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.outcome = 'approved' AND NEW.authority_amount IS NULL AND EXISTS (
        SELECT 1 FROM approvals_approvalrequest r
         WHERE r.id = NEW.request_id AND r.authority_amount IS NOT NULL
    ) THEN
        RAISE EXCEPTION 'an approval of a proposed sum must state the sum'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER approvals_decision_amount_guard BEFORE INSERT OR UPDATE ON approvals_decision
    FOR EACH ROW EXECUTE FUNCTION approvals_decision_amount_guard();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS approvals_decision_amount_guard ON approvals_decision;
DROP FUNCTION IF EXISTS approvals_decision_amount_guard();
"""
SQLITE = """CREATE TRIGGER approvals_decision_amount_guard BEFORE INSERT ON approvals_decision
   WHEN NEW.outcome = 'approved' AND NEW.authority_amount IS NULL AND EXISTS (
        SELECT 1 FROM approvals_approvalrequest r
         WHERE r.id = NEW.request_id AND r.authority_amount IS NOT NULL)
   BEGIN SELECT RAISE(ABORT, 'an approval of a proposed sum must state the sum'); END;"""


# SQLite rebuilds a table to add a constraint, dropping the triggers on it and refusing
# the rename while another table's trigger names it: those triggers come off first and
# go back on afterwards (migration 0008's, for the decision table).
SQLITE_DECISION_TRIGGERS = (
    "approvals_decision_no_delete",
    "approvals_decision_mode_guard",
    "approvals_case_decided_guard",
)


def _migration_0008():
    import importlib

    return importlib.import_module("approvals.migrations.0008_decision_mode_triggers")


def sqlite_detach(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in SQLITE_DECISION_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};", params=None)


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG, params=None)
    elif vendor == "sqlite":
        for statement in _migration_0008().SQLITE:
            if any(f"TRIGGER IF NOT EXISTS {n} " in statement or f"TRIGGER {n} " in statement
                   for n in SQLITE_DECISION_TRIGGERS):
                schema_editor.execute(statement, params=None)
        schema_editor.execute(SQLITE, params=None)


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS approvals_decision_amount_guard;")


def mark_granting(apps, schema_editor):
    Decision = apps.get_model("approvals", "Decision")
    Decision.objects.filter(outcome__in=["approved", "partly_approved"]).exclude(
        authority_amount=None
    ).update(grants_amount=True)


class Migration(migrations.Migration):
    dependencies = [("approvals", "0008_decision_mode_triggers")]

    operations = [
        migrations.RunPython(sqlite_detach, migrations.RunPython.noop),
        migrations.AddField("decision", "grants_amount", models.BooleanField(default=False)),
        migrations.RunPython(mark_granting, migrations.RunPython.noop),
        migrations.AddConstraint(
            "decision",
            models.CheckConstraint(
                condition=Q(adjustments=[]) | Q(grants_amount=True),
                name="decision_adjustments_only_when_granted",
            ),
        ),
        migrations.AddConstraint(
            "decision",
            models.CheckConstraint(
                condition=Q(grants_amount=False) | Q(authority_amount__isnull=False),
                name="decision_amount_when_granted",
            ),
        ),
        migrations.RunPython(install, remove),
    ]
