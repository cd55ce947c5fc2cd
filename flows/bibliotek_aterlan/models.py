"""What the robot did with each loan, kept in Django so that a re-run never renews twice.

One row per loan state (patron, item, current due date): the nightly run claims the row
*before* it sends Renew, so a second run the same night, or a run the next night for a
loan that was refused and left to run out, finds the row and sends nothing. A loan
renewed (by the robot or by hand) has a new due date, hence a new state, and is due
again only weeks later.
"""

from django.db import models
from django.utils import timezone


class LoanRenewal(models.Model):
    class Status(models.TextChoices):
        # Claimed; Renew sent or about to be. Left so only when a run stopped mid-loan.
        PENDING = "pending", "Påbörjad"
        RENEWED = "renewed", "Omlånad av roboten"
        EXCEPTION = "exception", "Undantag till bibliotekarie"

    night = models.DateField()
    night_case = models.ForeignKey("approvals.Case", on_delete=models.PROTECT, related_name="+")
    patron_id = models.CharField(max_length=40)
    item_id = models.CharField(max_length=40)
    title = models.CharField(max_length=300, blank=True)
    due_date = models.DateField()
    # The patron's name and address as the library system gave them, for the notice only.
    patron_name = models.CharField(max_length=200, blank=True)
    patron_email = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=40, blank=True)
    screen_message = models.TextField(blank=True)
    detail = models.TextField(blank=True)
    new_due_date = models.DateField(null=True, blank=True)
    exception_case = models.OneToOneField(
        "approvals.Case",
        on_delete=models.PROTECT,
        related_name="loan_renewal",
        null=True,
        blank=True,
    )
    # What the librarian did (mirrors the core's ExceptionSettlement, for the notice).
    settled_action = models.CharField(max_length=40, blank=True)
    settled_due_date = models.DateField(null=True, blank=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    settlement_notice_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patron_id", "item_id", "due_date"], name="loan_renewal_once_per_state"
            ),
        ]
        indexes = [models.Index(fields=["night", "status"])]

    def __str__(self) -> str:
        return f"{self.item_id} due {self.due_date}: {self.status}"
