"""Cases, decision material, approval requests, signed decisions and the audit trail.

The rule that never breaks: a decision row exists only with a human signer, a
signing time and the hash of the exact material the signer was shown. The
database enforces the shape (constraints below); approvals.services.decision_sign
enforces who may sign (approvals.rules).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from municipality.models import Delegation, Substitution, Unit

SHA256_LENGTH = 64


class Case(models.Model):
    """One application handled by one process, from intake to executed decision."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Mottagen"
        PROCESSING = "processing", "Robot arbetar"
        AWAITING_DECISION = "awaiting_decision", "Väntar på beslut"
        RETURNED = "returned", "Återsänd för komplettering"
        DECIDED = "decided", "Beslutad"
        FAILED = "failed", "Avbruten"

    process = models.SlugField(max_length=60)
    external_ref = models.CharField(max_length=100)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.RECEIVED)
    period = models.CharField(max_length=7, help_text="Month applied for, YYYY-MM.")
    # The application as received, byte for byte, and as parsed.
    raw_body = models.TextField()
    application = models.JSONField()
    application_sha256 = models.CharField(max_length=SHA256_LENGTH)
    # Canonical personnummer of everyone in the household, for conflict-of-interest
    # checks and register look-ups. Never sent to Prefect.
    subject_personnummer = models.CharField(max_length=12, db_index=True)
    household_personnummer = models.JSONField(default=list)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    flow_run_id = models.UUIDField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["process", "external_ref"], name="case_unique_external_ref"
            ),
        ]
        indexes = [models.Index(fields=["unit", "status"])]

    def __str__(self) -> str:
        return f"{self.process} #{self.pk} ({self.external_ref})"


class RegisterSnapshot(models.Model):
    """What the registers answered for a case, kept in readable form (OSL 4 kap. 3 §)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="register_snapshots")
    fetched_at = models.DateTimeField(default=timezone.now)
    control_month = models.CharField(max_length=7)
    data = models.JSONField()
    missing_sources = models.JSONField(default=list)
    sha256 = models.CharField(max_length=SHA256_LENGTH)

    class Meta:
        ordering = ["-fetched_at", "-id"]


class Material(models.Model):
    """One version of the decision material (beslutsunderlag) for a case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="materials")
    version = models.PositiveIntegerField()
    html = models.TextField()
    sha256 = models.CharField(max_length=SHA256_LENGTH, help_text="SHA-256 of the HTML shown.")
    pdf = models.BinaryField()
    pdf_sha256 = models.CharField(max_length=SHA256_LENGTH)
    calculation = models.JSONField()
    flags = models.JSONField(default=list)
    ruleset_version = models.CharField(max_length=40)
    proposed_amount = models.PositiveIntegerField()
    compiled_by = models.CharField(max_length=120, help_text="Robot step that compiled it.")
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="A person who prepared or changed this material; may not sign it.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="material_unique_version"),
            models.CheckConstraint(
                name="material_sha256_is_sha256",
                condition=Exact(Length("sha256"), SHA256_LENGTH),
            ),
        ]
        ordering = ["case", "version"]

    def __str__(self) -> str:
        return f"Material v{self.version} of case {self.case_id}"


class ApprovalRequest(models.Model):
    """A robot's proposal waiting for a human decision."""

    class Status(models.TextChoices):
        OPEN = "open", "Öppen"
        # Signed once; a second, different delegate must sign the same material.
        AWAITING_SECOND = "awaiting_second", "Väntar på andra underskrift"
        DECIDED = "decided", "Beslutad"
        SUPERSEDED = "superseded", "Ersatt"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="requests")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="requests")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="requests")
    decision_type = models.CharField(max_length=80)
    proposed_amount = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    flow_run_id = models.UUIDField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        permissions = [("sign_approvalrequest", "Can sign the decision for this request")]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["open", "awaiting_second"]),
                name="request_one_open_per_case",
            ),
        ]
        indexes = [
            # The inbox: a unit's requests in a status, in due-date order (id breaks ties),
            # walked page by page; the holder is in it too, so tab counts never read rows.
            models.Index(
                fields=["unit", "status", "due_date", "id", "assigned_to"],
                name="request_inbox_idx",
            ),
            # The inbox's "my cases" tab and the reminders walk requests by assignee.
            models.Index(fields=["assigned_to", "status", "due_date"]),
        ]

    def __str__(self) -> str:
        return f"Request #{self.pk} for case {self.case_id}"


class Decision(models.Model):
    """A signed decision. It cannot exist without signer, time and material hash."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Bifall"
        PARTLY_APPROVED = "partly_approved", "Delvis bifall"
        REFUSED = "refused", "Avslag"
        RETURNED = "returned", "Återsänd för komplettering"

    request = models.OneToOneField(
        ApprovalRequest, on_delete=models.PROTECT, related_name="decision"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    amount = models.PositiveIntegerField(null=True, blank=True)
    motivation = models.TextField(blank=True)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=200)
    signer_title = models.CharField(max_length=200)
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    substitution = models.ForeignKey(
        Substitution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The substitution under which the signer acted on behalf of an absent delegate.",
    )
    delegation = models.ForeignKey(Delegation, on_delete=models.PROTECT, null=True, blank=True)
    signed_at = models.DateTimeField()
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="+")
    material_sha256 = models.CharField(max_length=SHA256_LENGTH)
    material_opened_at = models.DateTimeField()
    followed_proposal = models.BooleanField()
    adjustments = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Lines of the proposal the signer changed, each {code, label, proposed, decided, "
            "reason, favours_applicant}; the amount follows from them."
        ),
    )
    cosignature_required = models.BooleanField(
        default=False, help_text="A second signer rule applied when the decision was signed."
    )
    verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the resumed flow re-checked this decision."
    )
    executed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Recent decisions first: the inbox's "recently decided" and the auditor's search.
        indexes = [models.Index(fields=["signed_at"], name="decision_signed_at_idx")]
        constraints = [
            models.CheckConstraint(
                name="decision_material_sha256_is_sha256",
                condition=Exact(Length("material_sha256"), SHA256_LENGTH),
            ),
            models.CheckConstraint(
                name="decision_outcome_valid",
                condition=Q(outcome__in=["approved", "partly_approved", "refused", "returned"]),
            ),
            models.CheckConstraint(
                name="decision_motivation_unless_approved",
                condition=Q(outcome="approved") | ~Q(motivation=""),
            ),
            models.CheckConstraint(
                name="decision_delegation_unless_returned",
                condition=Q(outcome="returned") | Q(delegation__isnull=False),
            ),
            models.CheckConstraint(
                name="decision_amount_when_granted",
                condition=~Q(outcome__in=["approved", "partly_approved"]) | Q(amount__isnull=False),
            ),
            # Changed lines only make sense in a decision that grants an amount, and a
            # decision with changed lines never followed the proposal.
            models.CheckConstraint(
                name="decision_adjustments_only_when_granted",
                condition=Q(adjustments=[]) | Q(outcome__in=["approved", "partly_approved"]),
            ),
            models.CheckConstraint(
                name="decision_adjusted_not_as_proposed",
                condition=Q(adjustments=[]) | Q(followed_proposal=False),
            ),
            models.CheckConstraint(
                name="decision_opened_before_signed",
                condition=Q(material_opened_at__lte=models.F("signed_at")),
            ),
            models.CheckConstraint(
                name="decision_on_behalf_of_with_substitution",
                condition=(Q(on_behalf_of__isnull=True) & Q(substitution__isnull=True))
                | (
                    Q(on_behalf_of__isnull=False)
                    & Q(substitution__isnull=False)
                    & ~Q(on_behalf_of=models.F("signer"))
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on case {self.request.case_id}"


class Cosignature(models.Model):
    """The second signature on a decision, by another delegate, on the same material."""

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="cosignature")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=200)
    signer_title = models.CharField(max_length=200)
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    substitution = models.ForeignKey(
        Substitution, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    delegation = models.ForeignKey(Delegation, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    material_sha256 = models.CharField(max_length=SHA256_LENGTH)
    material_opened_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="cosignature_material_sha256_is_sha256",
                condition=Exact(Length("material_sha256"), SHA256_LENGTH),
            ),
            models.CheckConstraint(
                name="cosignature_opened_before_signed",
                condition=Q(material_opened_at__lte=models.F("signed_at")),
            ),
            models.CheckConstraint(
                name="cosignature_on_behalf_of_with_substitution",
                condition=(Q(on_behalf_of__isnull=True) & Q(substitution__isnull=True))
                | (
                    Q(on_behalf_of__isnull=False)
                    & Q(substitution__isnull=False)
                    & ~Q(on_behalf_of=models.F("signer"))
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Second signature on decision {self.decision_id}"


class Letter(models.Model):
    """The decision letter sent to the applicant (FL 31–33 §§)."""

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="letter")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="letters")
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=SHA256_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)


class Supplement(models.Model):
    """Missing information sent by the applicant's system after a return for completion."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="supplements")
    raw_body = models.TextField()
    data = models.JSONField()
    sha256 = models.CharField(max_length=SHA256_LENGTH)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]


class PrefectCommand(models.Model):
    """Outbox of calls to Prefect, so that none is lost while Prefect is down.

    Written in the same transaction as the change that needs it, delivered after
    commit, retried until Prefect has it. Payloads carry ids and hashes only.
    """

    class Kind(models.TextChoices):
        START = "start", "Start flow run"
        RESUME = "resume", "Resume flow run"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Delivered"
        DEAD = "dead", "Cannot be delivered"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="prefect_commands")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class RejectedSubmission(models.Model):
    """An API body that was refused, kept so that nothing received is lost."""

    received_at = models.DateTimeField(default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    path = models.CharField(max_length=200)
    raw_body = models.TextField()
    truncated = models.BooleanField(default=False)
    errors = models.JSONField()


class AuditEvent(models.Model):
    """Append-only, hash-chained record of everything that happened to a case.

    Each event carries the hash of the previous event globally and within its
    case, so that altering or removing a row breaks the chain
    (`manage.py verify_audit`).
    """

    seq = models.PositiveBigIntegerField(unique=True)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    material = models.ForeignKey(
        Material, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=SHA256_LENGTH)
    case_prev_hash = models.CharField(max_length=SHA256_LENGTH, blank=True)
    hash = models.CharField(max_length=SHA256_LENGTH, unique=True)

    class Meta:
        ordering = ["seq"]
        permissions = [("view_audit_trail", "Can read the audit trail of every case")]
        indexes = [
            models.Index(fields=["case", "seq"]),
            models.Index(fields=["actor", "kind", "material"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"


class AuditChainHead(models.Model):
    """Single row holding the newest event's hash; appends lock it to serialise the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=SHA256_LENGTH, default="0" * SHA256_LENGTH)


# django-guardian object permissions with real foreign keys (fast joins in the inbox).
class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class ApprovalRequestUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE)


class ApprovalRequestGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [
            # "Does one of the user's groups hold this permission on this request?",
            # answered per inbox row from the index alone.
            models.Index(
                fields=["content_object", "permission", "group"], name="request_group_grant_idx"
            ),
        ]


class Notice(models.Model):
    """An e-mail sent about a request: a reminder, an escalation or a notification.

    Kept so that the periodic reminder run sends each one-time notice once only
    (the unique constraint below), and so that who was told what, when, can be read
    back. The e-mail itself carries no personal data, only the case reference.
    """

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", "Due soon"
        OVERDUE = "overdue", "Overdue"
        ESCALATED = "escalated", "Escalated to team leader"
        ASSIGNED = "assigned", "Assigned"
        NEW_MATERIAL = "new_material", "Supplement arrived"
        SECOND_SIGNATURE = "second_signature", "Second signature needed"

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipients = models.JSONField(default=list, help_text="Usernames the e-mail was sent to.")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "kind"],
                condition=Q(kind__in=["due_soon", "overdue", "escalated"]),
                name="notice_reminders_once_per_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for request {self.request_id}"
