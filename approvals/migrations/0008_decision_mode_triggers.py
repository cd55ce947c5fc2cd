"""The database enforces each process's decision mode, whoever writes the rows.

* A Decision is refused on a case of an `automatic` process, and on an exception
  request (those are settled, never decided).
* A case becomes `decided` only with a verified, non-return decision on it; it becomes
  `completed` (the robot's or an exception settler's act) only when its process is
  not public authority and not in `human` mode.
* A case's decision mode and public-authority flag never change after intake, and a
  case is never inserted already ended.
* Exception settlements are append-only.

SQLite (the demo) gets the same rules as BEFORE triggers; the decision table was
rebuilt by migration 0007 there, so its no-delete trigger is installed again.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models import Q

PG = """
CREATE OR REPLACE FUNCTION approvals_decision_mode_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    mode text;
    request_kind text;
BEGIN
    SELECT c.decision_mode, r.kind INTO mode, request_kind
      FROM approvals_approvalrequest r JOIN approvals_case c ON c.id = r.case_id
     WHERE r.id = NEW.request_id;
    IF mode = 'automatic' OR request_kind <> 'decision' THEN
        RAISE EXCEPTION 'a decision on this request is refused: its process decides without a person (mode %, request %)', mode, request_kind
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER approvals_decision_mode_guard BEFORE INSERT ON approvals_decision
    FOR EACH ROW EXECUTE FUNCTION approvals_decision_mode_guard();

CREATE OR REPLACE FUNCTION approvals_case_end_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status IN ('decided', 'completed') THEN
            RAISE EXCEPTION 'a case cannot be inserted already ended'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.decision_mode IS DISTINCT FROM OLD.decision_mode
       OR NEW.public_authority IS DISTINCT FROM OLD.public_authority THEN
        RAISE EXCEPTION 'the decision mode of a case is fixed at intake'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status = 'completed' AND OLD.status IS DISTINCT FROM 'completed'
       AND (NEW.decision_mode = 'human' OR NEW.public_authority) THEN
        RAISE EXCEPTION 'case %: a process that needs a human decision cannot complete without one', NEW.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status = 'decided' AND OLD.status IS DISTINCT FROM 'decided' AND NOT EXISTS (
        SELECT 1 FROM approvals_decision d
          JOIN approvals_approvalrequest r ON r.id = d.request_id
         WHERE r.case_id = NEW.id AND d.verified_at IS NOT NULL AND d.outcome <> 'returned'
    ) THEN
        RAISE EXCEPTION 'case %: decided without a verified signed decision', NEW.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER approvals_case_end_guard BEFORE INSERT OR UPDATE ON approvals_case
    FOR EACH ROW EXECUTE FUNCTION approvals_case_end_guard();

CREATE TRIGGER approvals_exceptionsettlement_append_only BEFORE UPDATE OR DELETE
    ON approvals_exceptionsettlement FOR EACH ROW EXECUTE FUNCTION approvals_refuse_change();
"""

PG_REVERSE = """
DROP TRIGGER IF EXISTS approvals_decision_mode_guard ON approvals_decision;
DROP FUNCTION IF EXISTS approvals_decision_mode_guard();
DROP TRIGGER IF EXISTS approvals_case_end_guard ON approvals_case;
DROP FUNCTION IF EXISTS approvals_case_end_guard();
DROP TRIGGER IF EXISTS approvals_exceptionsettlement_append_only ON approvals_exceptionsettlement;
"""

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS approvals_decision_no_delete BEFORE DELETE ON approvals_decision
       BEGIN SELECT RAISE(ABORT, 'DELETE on approvals_decision is refused: the table is append-only'); END;""",
    """CREATE TRIGGER approvals_decision_mode_guard BEFORE INSERT ON approvals_decision
       WHEN (SELECT c.decision_mode = 'automatic' OR r.kind <> 'decision'
               FROM approvals_approvalrequest r JOIN approvals_case c ON c.id = r.case_id
              WHERE r.id = NEW.request_id)
       BEGIN SELECT RAISE(ABORT, 'a decision on this request is refused: its process decides without a person'); END;""",
    """CREATE TRIGGER approvals_case_insert_guard BEFORE INSERT ON approvals_case
       WHEN NEW.status IN ('decided', 'completed')
       BEGIN SELECT RAISE(ABORT, 'a case cannot be inserted already ended'); END;""",
    """CREATE TRIGGER approvals_case_mode_fixed BEFORE UPDATE ON approvals_case
       WHEN NEW.decision_mode IS NOT OLD.decision_mode OR NEW.public_authority IS NOT OLD.public_authority
       BEGIN SELECT RAISE(ABORT, 'the decision mode of a case is fixed at intake'); END;""",
    """CREATE TRIGGER approvals_case_completed_guard BEFORE UPDATE ON approvals_case
       WHEN NEW.status = 'completed' AND OLD.status IS NOT 'completed'
            AND (NEW.decision_mode = 'human' OR NEW.public_authority)
       BEGIN SELECT RAISE(ABORT, 'a process that needs a human decision cannot complete without one'); END;""",
    """CREATE TRIGGER approvals_case_decided_guard BEFORE UPDATE ON approvals_case
       WHEN NEW.status = 'decided' AND OLD.status IS NOT 'decided' AND NOT EXISTS (
            SELECT 1 FROM approvals_decision d JOIN approvals_approvalrequest r ON r.id = d.request_id
             WHERE r.case_id = NEW.id AND d.verified_at IS NOT NULL AND d.outcome <> 'returned')
       BEGIN SELECT RAISE(ABORT, 'decided without a verified signed decision'); END;""",
    """CREATE TRIGGER approvals_exceptionsettlement_no_update BEFORE UPDATE ON approvals_exceptionsettlement
       BEGIN SELECT RAISE(ABORT, 'UPDATE on approvals_exceptionsettlement is refused: the table is append-only'); END;""",
    """CREATE TRIGGER approvals_exceptionsettlement_no_delete BEFORE DELETE ON approvals_exceptionsettlement
       BEGIN SELECT RAISE(ABORT, 'DELETE on approvals_exceptionsettlement is refused: the table is append-only'); END;""",
]
SQLITE_NAMES = [
    "approvals_decision_mode_guard",
    "approvals_case_insert_guard",
    "approvals_case_mode_fixed",
    "approvals_case_completed_guard",
    "approvals_case_decided_guard",
    "approvals_exceptionsettlement_no_update",
    "approvals_exceptionsettlement_no_delete",
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
    dependencies = [("approvals", "0007_generic_core")]

    operations = [
        migrations.AddField(
            "approvalrequest",
            "kind",
            models.CharField(
                choices=[("decision", "Beslut"), ("exception", "Undantag")],
                default="decision",
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="ExceptionSettlement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("action", models.CharField(max_length=40)),
                ("reason", models.TextField()),
                (
                    "data",
                    models.JSONField(
                        blank=True, default=dict
                    ),
                ),
                (
                    "settled_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now
                    ),
                ),
                (
                    "request",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="settlement",
                        to="approvals.approvalrequest",
                    ),
                ),
                (
                    "settled_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="auth.user",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=~Q(reason=""),
                        name="settlement_reason_required",
                    )
                ]
            },
        ),
        migrations.RunPython(install, remove),
    ]
