"""The generic core: cases, material and decisions no longer carry one process's columns.

Case: the payload (was `application`), its parties (was subject/household
personnummer), the process's own data (the month applied for moves there), and
the decision mode copied from the declaration. Material and requests: the
proposal (was `calculation`) and an optional authority amount (was
`proposed_amount`). Decision: the decided data as JSON and the authority amount
(was `amount`). Letters become Documents with a kind. Existing rows are moved.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact


def forwards(apps, schema_editor):
    Case = apps.get_model("approvals", "Case")
    CaseParty = apps.get_model("approvals", "CaseParty")
    Decision = apps.get_model("approvals", "Decision")
    Letter = apps.get_model("approvals", "Letter")
    Document = apps.get_model("approvals", "Document")
    for case in Case.objects.all().iterator():
        Case.objects.filter(pk=case.pk).update(data={"period": case.period})
        members = [case.subject_personnummer] + [
            p for p in case.household_personnummer if p != case.subject_personnummer
        ]
        CaseParty.objects.bulk_create(
            [
                CaseParty(case=case, personnummer=p, role="applicant" if i == 0 else "household")
                for i, p in enumerate(members)
            ]
        )
    for decision in Decision.objects.exclude(authority_amount=None).iterator():
        Decision.objects.filter(pk=decision.pk).update(
            decided={"amount": decision.authority_amount}
        )
    for letter in Letter.objects.all().iterator():
        Document.objects.create(
            case_id=letter.case_id,
            decision_id=letter.decision_id,
            kind="decision_letter",
            title="Beslut",
            pdf=letter.pdf,
            sha256=letter.sha256,
            created_at=letter.created_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0006_decision_adjustments"),
        ("municipality", "0005_processes_from_registry"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Case
        migrations.RenameField("case", "application", "payload"),
        migrations.RenameField("case", "application_sha256", "payload_sha256"),
        migrations.AddField(
            "case", "decision_mode", models.CharField(default="human", max_length=20)
        ),
        migrations.AddField("case", "public_authority", models.BooleanField(default=True)),
        migrations.AddField(
            "case", "schema_version", models.CharField(default="1", max_length=40)
        ),
        migrations.AddField("case", "data", models.JSONField(blank=True, default=dict)),
        migrations.AlterField(
            "case",
            "status",
            models.CharField(
                choices=[
                    ("received", "Mottagen"),
                    ("processing", "Robot arbetar"),
                    ("awaiting_decision", "Väntar på beslut"),
                    ("awaiting_person", "Väntar på handläggare"),
                    ("returned", "Återsänd för komplettering"),
                    ("decided", "Beslutad"),
                    ("completed", "Klar (robot)"),
                    ("failed", "Avbruten"),
                ],
                default="received",
                max_length=30,
            ),
        ),
        migrations.CreateModel(
            name="CaseParty",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("personnummer", models.CharField(db_index=True, max_length=12)),
                ("role", models.CharField(max_length=40)),
                ("name", models.CharField(blank=True, max_length=200)),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="parties",
                        to="approvals.case",
                    ),
                ),
            ],
            options={"ordering": ["case", "id"]},
        ),
        migrations.AddConstraint(
            "caseparty",
            models.UniqueConstraint(
                fields=("case", "personnummer", "role"), name="case_party_unique"
            ),
        ),
        # Material and requests
        migrations.RenameField("material", "calculation", "proposal"),
        migrations.RenameField("material", "proposed_amount", "authority_amount"),
        migrations.AlterField(
            "material", "authority_amount", models.PositiveBigIntegerField(blank=True, null=True)
        ),
        migrations.AddField(
            "material",
            "summary",
            models.CharField(blank=True, help_text="One line for the inbox.", max_length=300),
        ),
        migrations.RenameField("approvalrequest", "proposed_amount", "authority_amount"),
        migrations.AlterField(
            "approvalrequest",
            "authority_amount",
            models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.RemoveField("registersnapshot", "control_month"),
        # Decision
        migrations.RemoveConstraint("decision", "decision_outcome_valid"),
        migrations.RemoveConstraint("decision", "decision_delegation_unless_returned"),
        migrations.RemoveConstraint("decision", "decision_amount_when_granted"),
        migrations.RemoveConstraint("decision", "decision_adjustments_only_when_granted"),
        migrations.RenameField("decision", "amount", "authority_amount"),
        migrations.AlterField(
            "decision", "authority_amount", models.PositiveBigIntegerField(blank=True, null=True)
        ),
        migrations.AlterField("decision", "outcome", models.CharField(max_length=40)),
        migrations.AddField("decision", "decided", models.JSONField(blank=True, default=dict)),
        # Documents
        migrations.CreateModel(
            name="Document",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("decision_letter", "Beslutsbrev"),
                            ("completion_request", "Begäran om komplettering"),
                            ("certificate", "Intyg"),
                            ("notice", "Meddelande"),
                            ("roster", "Schema"),
                            ("report", "Rapport"),
                        ],
                        max_length=40,
                    ),
                ),
                ("title", models.CharField(blank=True, max_length=200)),
                ("pdf", models.BinaryField()),
                ("sha256", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="documents",
                        to="approvals.case",
                    ),
                ),
                (
                    "decision",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="documents",
                        to="approvals.decision",
                    ),
                ),
            ],
            options={"ordering": ["case", "id"]},
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.DeleteModel(name="Letter"),
        migrations.RemoveField("case", "period"),
        migrations.RemoveField("case", "subject_personnummer"),
        migrations.RemoveField("case", "household_personnummer"),
        # Constraints of the generic shape
        migrations.AddConstraint(
            "case",
            models.CheckConstraint(
                condition=Q(decision_mode__in=["human", "automatic", "exceptions"]),
                name="case_decision_mode_valid",
            ),
        ),
        migrations.AddConstraint(
            "case",
            models.CheckConstraint(
                condition=Q(public_authority=False) | Q(decision_mode="human"),
                name="case_public_authority_not_automatic",
            ),
        ),
        migrations.AddConstraint(
            "decision",
            models.CheckConstraint(
                condition=Q(outcome__regex="^[a-z][a-z0-9_]{1,39}$"), name="decision_outcome_valid"
            ),
        ),
        migrations.AddConstraint(
            "decision",
            models.CheckConstraint(
                condition=Q(delegation__isnull=False), name="decision_delegation_required"
            ),
        ),
        migrations.AddConstraint(
            "decision",
            models.CheckConstraint(
                condition=Q(adjustments=[]) | ~Q(outcome="returned"),
                name="decision_adjustments_not_when_returned",
            ),
        ),
        migrations.AddConstraint(
            "document",
            models.UniqueConstraint(
                condition=Q(decision__isnull=False),
                fields=("decision", "kind"),
                name="document_one_kind_per_decision",
            ),
        ),
        migrations.AddConstraint(
            "document",
            models.CheckConstraint(
                condition=Exact(Length("sha256"), 64), name="document_sha256_is_sha256"
            ),
        ),
    ]
