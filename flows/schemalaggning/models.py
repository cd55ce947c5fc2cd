"""What the roster robot keeps in Django besides the core's case, material and documents.

RosterDraft: the manager's edits of one material version (the robot's proposal), with the
roster they give and its verdict, so the grid shows the breaches at once after each edit.
The material itself is never changed: it is what was hashed and opened; what is signed
is the material plus the edits (Decision.decided carries the edits and the final
roster's hash).

RosterCalendar: one published iCalendar file per person of an approved roster, hashed,
tied to the decision it carries out.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

SHA256_LENGTH = 64


class RosterDraft(models.Model):
    case = models.ForeignKey(
        "approvals.Case", on_delete=models.PROTECT, related_name="roster_drafts"
    )
    material = models.OneToOneField(
        "approvals.Material", on_delete=models.PROTECT, related_name="roster_draft"
    )
    # The manager's edits in the order made (flows.schemalaggning.drafts.EDIT_OPS).
    edits = models.JSONField(default=list)
    # The roster after the edits (the material's proposal when there are none).
    shifts = models.JSONField(default=list)
    shifts_sha256 = models.CharField(max_length=SHA256_LENGTH)
    verdict = models.JSONField(default=dict)
    # Bumped by every edit; an edit form posted for an older version is refused.
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="roster_draft_sha256_is_sha256",
                condition=Exact(Length("shifts_sha256"), SHA256_LENGTH),
            ),
        ]

    def __str__(self) -> str:
        return f"Roster draft v{self.version} of case {self.case_id}"


class RosterCalendar(models.Model):
    case = models.ForeignKey(
        "approvals.Case", on_delete=models.PROTECT, related_name="roster_calendars"
    )
    decision = models.ForeignKey(
        "approvals.Decision", on_delete=models.PROTECT, related_name="roster_calendars"
    )
    staff_id = models.CharField(max_length=40)
    ics = models.BinaryField()
    sha256 = models.CharField(max_length=SHA256_LENGTH)
    events = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "staff_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "staff_id"], name="roster_calendar_one_per_person"
            ),
            models.CheckConstraint(
                name="roster_calendar_sha256_is_sha256",
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"),
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar of {self.staff_id} (case {self.case_id})"
