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
    """One case of one process, from intake (or a robot's scan) to its end.

    Generic: what every process has sits in columns; the received payload and the
    process's own typed data are JSON validated by the process's schemas
    (approvals.registry). The decision mode and whether the process exercises public
    authority are copied from the declaration at intake, so that the database itself
    can refuse what the mode forbids (migration 0008's triggers).
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Mottagen"
        PROCESSING = "processing", "Robot arbetar"
        AWAITING_DECISION = "awaiting_decision", "Väntar på beslut"
        # An exception the robot could not settle waits in a person's queue.
        AWAITING_PERSON = "awaiting_person", "Väntar på handläggare"
        RETURNED = "returned", "Återsänd för komplettering"
        DECIDED = "decided", "Beslutad"
        # Settled by the robot alone (service processes): recorded as the robot's act.
        COMPLETED = "completed", "Klar (robot)"
        FAILED = "failed", "Avbruten"

    process = models.SlugField(max_length=60)
    external_ref = models.CharField(max_length=100)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.RECEIVED)
    decision_mode = models.CharField(max_length=20, default="human")
    public_authority = models.BooleanField(default=True)
    # The payload as received, byte for byte, and as parsed by the process's schema.
    raw_body = models.TextField()
    payload = models.JSONField()
    payload_sha256 = models.CharField(max_length=SHA256_LENGTH)
    schema_version = models.CharField(max_length=40, default="1")
    # The process's own typed data (e.g. the month applied for), validated by the process.
    data = models.JSONField(default=dict, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    flow_run_id = models.UUIDField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # After a return for completion: the last day the applicant's supplement is awaited.
    completion_due = models.DateField(null=True, blank=True)
    # How many times the robot was started for this case (the watchdog restarts it).
    robot_attempts = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["process", "external_ref"], name="case_unique_external_ref"
            ),
            models.CheckConstraint(
                name="case_decision_mode_valid",
                condition=Q(decision_mode__in=["human", "automatic", "exceptions"]),
            ),
            # A public-authority process is never automatic.
            models.CheckConstraint(
                name="case_public_authority_not_automatic",
                condition=Q(public_authority=False) | Q(decision_mode="human"),
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "status"]),
            # Intake's back-pressure counts the cases still with the robots on every
            # new application (approvals.services.intake.intake_backlog).
            models.Index(
                fields=["status"],
                name="case_robot_backlog",
                condition=Q(status__in=["received", "processing"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.process} #{self.pk} ({self.external_ref})"

    @property
    def applicant_personnummer(self) -> str | None:
        party = next((p for p in self.parties.all() if p.role == CaseParty.APPLICANT), None)
        return party.personnummer if party else None


class CaseParty(models.Model):
    """A person a case is about, with their role: for conflict-of-interest checks,
    search and access logging. Never sent to Prefect."""

    APPLICANT = "applicant"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    personnummer = models.CharField(max_length=12, db_index=True)
    role = models.CharField(max_length=40)
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["case", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "personnummer", "role"], name="case_party_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} of case {self.case_id}"


class RegisterSnapshot(models.Model):
    """What the registers answered for a case, kept in readable form (OSL 4 kap. 3 §)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="register_snapshots")
    fetched_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField()
    missing_sources = models.JSONField(default=list)
    sha256 = models.CharField(max_length=SHA256_LENGTH)
    # The material version these answers are for: one snapshot per version, so that a
    # robot restarted within a version reuses what the registers said (null: older rows).
    version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-fetched_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "version"],
                condition=Q(version__isnull=False),
                name="register_snapshot_one_per_version",
            ),
        ]


class Material(models.Model):
    """One version of the decision material (beslutsunderlag) for a case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="materials")
    version = models.PositiveIntegerField()
    html = models.TextField()
    sha256 = models.CharField(max_length=SHA256_LENGTH, help_text="SHA-256 of the HTML shown.")
    pdf = models.BinaryField()
    pdf_sha256 = models.CharField(max_length=SHA256_LENGTH)
    # The robot's proposal, validated by the process (ProcessSpec.proposal_schema).
    proposal = models.JSONField()
    summary = models.CharField(max_length=300, blank=True, help_text="One line for the inbox.")
    flags = models.JSONField(default=list)
    ruleset_version = models.CharField(max_length=40)
    # The one figure delegation limits compare against; null for processes without money.
    authority_amount = models.PositiveBigIntegerField(null=True, blank=True)
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
    """A robot's proposal waiting for a person: a decision to sign, or an exception to settle.

    DECISION requests pass the gate (approvals.services.signing) and end in a signed
    Decision. EXCEPTION requests come from service processes whose robot could not
    settle a case; a person of the owning unit settles them (ExceptionSettlement),
    and they can never carry a Decision (a database trigger refuses it).
    """

    class Kind(models.TextChoices):
        DECISION = "decision", "Beslut"
        EXCEPTION = "exception", "Undantag"

    class Status(models.TextChoices):
        OPEN = "open", "Öppen"
        # Signed once; a second, different delegate must sign the same material.
        AWAITING_SECOND = "awaiting_second", "Väntar på andra underskrift"
        DECIDED = "decided", "Beslutad"
        SUPERSEDED = "superseded", "Ersatt"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="requests")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="requests")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="requests")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DECISION)
    decision_type = models.CharField(max_length=80)
    authority_amount = models.PositiveBigIntegerField(null=True, blank=True)
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

    # The outcomes the core gives meaning to; each process declares its own others
    # (approvals.registry.DecisionType.outcomes), checked by the gate.
    class Outcome:
        APPROVED = "approved"
        RETURNED = "returned"

    request = models.OneToOneField(
        ApprovalRequest, on_delete=models.PROTECT, related_name="decision"
    )
    outcome = models.CharField(max_length=40)
    # What was decided, in the process's terms (e.g. {"amount": 4285}).
    decided = models.JSONField(default=dict, blank=True)
    authority_amount = models.PositiveBigIntegerField(null=True, blank=True)
    # Copied from the declared outcome: the decision grants a sum (bistånd's approvals).
    grants_amount = models.BooleanField(default=False)
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
                condition=Q(outcome__regex=r"^[a-z][a-z0-9_]{1,39}$"),
            ),
            models.CheckConstraint(
                name="decision_motivation_unless_approved",
                condition=Q(outcome="approved") | ~Q(motivation=""),
            ),
            # Every decision, a return for completion included, is signed under a line
            # of the delegation order.
            models.CheckConstraint(
                name="decision_delegation_required", condition=Q(delegation__isnull=False)
            ),
            # Changed lines make no sense in a return for completion, and a decision
            # with changed lines never followed the proposal.
            models.CheckConstraint(
                name="decision_adjustments_not_when_returned",
                condition=Q(adjustments=[]) | ~Q(outcome="returned"),
            ),
            # Changed lines only in a decision that grants a sum, and that sum is stated.
            models.CheckConstraint(
                name="decision_adjustments_only_when_granted",
                condition=Q(adjustments=[]) | Q(grants_amount=True),
            ),
            models.CheckConstraint(
                name="decision_amount_when_granted",
                condition=Q(grants_amount=False) | Q(authority_amount__isnull=False),
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
        return f"{self.outcome} on case {self.request.case_id}"


class ExceptionSettlement(models.Model):
    """A person settled an exception the robot could not: what they did and why.

    Not a decision in the legal sense (service processes only); append-only like the
    trail. The settling person must belong to the owning unit and hold the request's
    grant (approvals.services.exceptions).
    """

    request = models.OneToOneField(
        ApprovalRequest, on_delete=models.PROTECT, related_name="settlement"
    )
    action = models.CharField(max_length=40)
    reason = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    settled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(name="settlement_reason_required", condition=~Q(reason="")),
        ]

    def __str__(self) -> str:
        return f"{self.action} on request {self.request_id}"


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


class Document(models.Model):
    """A document the robot wrote: a decision letter, certificate, injunction, roster, request.

    Generic with a kind; tied to the decision it carries out when there is one, and
    to the case always. Its hash is recorded on the audit trail when it is created.
    """

    class Kind(models.TextChoices):
        DECISION_LETTER = "decision_letter", "Beslutsbrev"
        COMPLETION_REQUEST = "completion_request", "Begäran om komplettering"
        CERTIFICATE = "certificate", "Intyg"
        NOTICE = "notice", "Meddelande"
        ROSTER = "roster", "Schema"
        REPORT = "report", "Rapport"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    decision = models.ForeignKey(
        "Decision", on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    title = models.CharField(max_length=200, blank=True)
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=SHA256_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "kind"],
                condition=Q(decision__isnull=False),
                name="document_one_kind_per_decision",
            ),
            models.CheckConstraint(
                name="document_sha256_is_sha256", condition=Exact(Length("sha256"), SHA256_LENGTH)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} of case {self.case_id}"


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


class CallbackEndpoint(models.Model):
    """Where an integration account wants to hear about its cases' status changes.

    Each POST carries ids and the status only, signed with HMAC-SHA256 under the secret
    given to the account when it registered the URL.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="callback_endpoint"
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Callback of {self.user_id}"


class CallbackDelivery(models.Model):
    """Outbox of callbacks: written with the change, delivered and retried by the worker."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Delivered"
        DEAD = "dead", "Cannot be delivered"

    endpoint = models.ForeignKey(
        CallbackEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="callbacks")
    event = models.CharField(max_length=60)
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


class CaseNote(models.Model):
    """A journal note (journalanteckning) on a case: the handling documented, dated, signed.

    A locked record once saved (a database trigger refuses UPDATE and DELETE, migration
    0012): a correction is a new note referring to the one it adds to, never an edit.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=200)
    author_title = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    # An addendum names the note it adds to (on the same case).
    refers_to = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="addenda"
    )
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "written_at", "id"]
        constraints = [
            models.CheckConstraint(name="casenote_text_required", condition=~Q(text="")),
        ]

    def __str__(self) -> str:
        return f"Note #{self.pk} on case {self.case_id}"


class CosignatureDecline(models.Model):
    """The second signer refused to co-sign a decision, with the reason.

    The first decision stays (decisions are never deleted) but is never carried out:
    its request is superseded and the same material is opened again, for the first
    signer, as `reopened` (a new ApprovalRequest). Append-only (migration 0012).
    """

    decision = models.OneToOneField(
        Decision, on_delete=models.PROTECT, related_name="cosignature_decline"
    )
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=200)
    reason = models.TextField()
    reopened = models.OneToOneField(
        ApprovalRequest, on_delete=models.PROTECT, related_name="reopened_by_decline"
    )
    declined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(name="cosignature_decline_reason", condition=~Q(reason="")),
        ]

    def __str__(self) -> str:
        return f"Second signature declined on decision {self.decision_id}"
