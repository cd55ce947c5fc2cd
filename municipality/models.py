"""The organisation: units, staff and the delegation order (delegationsordning).

Who may decide what is data, not code: a committee delegates decision types to
roles or named people in a unit, up to an amount, for a period (KL 6 kap. 37–38 §§).
"""

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .staff_personnummer import staff_personnummer_canonical, validate_staff_personnummer


class Unit(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    committee = models.CharField(
        max_length=200, help_text="Nämnd whose delegation the unit exercises."
    )
    # What a letter from the unit must say (FL 31–33 §§): who the authority is and how to
    # reach it, and where an appeal is sent (the committee, not the court).
    municipality = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=300, blank=True, help_text="Postal address.")
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    committee_address = models.CharField(
        max_length=300, blank=True, help_text="Where appeals are sent (the committee's address)."
    )

    class Meta:
        ordering = ["name"]
        # Held by process owners and operators: the robot catalogue and its health.
        permissions = [("view_operations", "Can see the robot catalogue and health")]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    """A login's place in the organisation and what kind of actor it is.

    Only HUMAN staff can ever sign. Integration accounts (e-service systems) and
    robot accounts exist so that every action has an identified actor.
    """

    class Kind(models.TextChoices):
        HUMAN = "human", "Human"
        INTEGRATION = "integration", "Integration account"
        ROBOT = "robot", "Robot account"

    class Role(models.TextChoices):
        CASEWORKER = "caseworker", "Handläggare"
        TEAM_LEADER = "team_leader", "Gruppledare"
        AUDITOR = "auditor", "Granskare"
        UNIT_ADMIN = "unit_admin", "Enhetsadministratör"
        # Owns a robot process: follows its health, volumes and time saved; signs nothing.
        PROCESS_OWNER = "process_owner", "Processägare"
        SYSTEM = "system", "System"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff"
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="staff", null=True, blank=True
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HUMAN)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CASEWORKER)
    title = models.CharField(max_length=120, blank=True)
    # Kept only to detect conflicts of interest (a signer deciding their own or a
    # household member's case); never shown in lists. Any written form is accepted
    # (13 characters: YYYYMMDD-NNNC) and stored as the canonical 12 digits.
    personnummer = models.CharField(
        max_length=13,
        blank=True,
        validators=[validate_staff_personnummer],
        help_text="Personnummer or samordningsnummer; stored as YYYYMMDDNNNC.",
    )
    # The person's subject ("sub") at the municipality's identity provider (OpenID Connect,
    # municipality.oidc): a login there is this account's only when it matches. Set by the
    # unit administrator; empty for password-only accounts. Accounts are never made from it.
    oidc_subject = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="Subject (sub) at the municipality's identity provider; empty: no OIDC login.",
    )

    class Meta:
        verbose_name_plural = "staff"
        constraints = [
            models.UniqueConstraint(
                fields=["oidc_subject"],
                condition=~Q(oidc_subject=""),
                name="staff_oidc_subject_unique",
            ),
            models.CheckConstraint(
                name="staff_system_role_only_for_non_humans",
                condition=Q(kind="human") | Q(role="system"),
            ),
            # Whatever writes the row, only the canonical form can be compared.
            models.CheckConstraint(
                name="staff_personnummer_canonical",
                condition=Q(personnummer="") | Q(personnummer__regex=r"^[0-9]{12}$"),
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    def clean(self):
        super().clean()
        try:
            self.personnummer = staff_personnummer_canonical(self.personnummer)
        except ValidationError as exc:
            raise ValidationError({"personnummer": exc}) from None

    def save(self, *args, **kwargs):
        # Canonical on every save, also where no form ran (shell, fixtures, services).
        self.personnummer = staff_personnummer_canonical(self.personnummer)
        super().save(*args, **kwargs)

    @property
    def is_human(self) -> bool:
        return self.kind == self.Kind.HUMAN


class Delegation(models.Model):
    """One line of the delegation order: who may decide a decision type in a unit.

    Either a role or a named person holds it, optionally up to an amount, from a
    date to a date.
    """

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="delegations")
    decision_type = models.CharField(max_length=80)
    role = models.CharField(max_length=20, choices=Staff.Role.choices, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    max_amount = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Highest monthly amount (kr) this line covers; empty = no limit.",
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    reference = models.CharField(
        max_length=120, blank=True, help_text="Point in the delegation order, e.g. 'SN 4.1.2'."
    )
    # A line is never removed from the database: decisions keep pointing at the line
    # they were signed under, and the gate treats a deleted line as absent.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="delegation_role_xor_user",
                condition=(Q(role="") & Q(user__isnull=False))
                | (~Q(role="") & Q(user__isnull=True)),
            ),
            models.CheckConstraint(
                name="delegation_valid_period",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
            ),
        ]

    def __str__(self) -> str:
        holder = self.user.get_username() if self.user_id else self.get_role_display()
        return f"{self.unit.code}: {self.decision_type} → {holder}"


class Substitution(models.Model):
    """A substitute (ersättare) who exercises an absent delegate's delegation.

    During the period the substitute may decide what the absent person's delegation
    lines cover; the decision names the absent person in `on_behalf_of`.
    """

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="substitutions")
    absent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision_type = models.CharField(
        max_length=80, blank=True, help_text="Empty = every decision type the absent person holds."
    )
    valid_from = models.DateField()
    valid_to = models.DateField()
    reference = models.CharField(max_length=120, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="substitution_not_self", condition=~Q(absent=models.F("substitute"))
            ),
            models.CheckConstraint(
                name="substitution_valid_period",
                condition=Q(valid_to__gte=models.F("valid_from")),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.unit.code}: {self.substitute.get_username()} for "
            f"{self.absent.get_username()} {self.valid_from}–{self.valid_to}"
        )


class SecondSignerRule(models.Model):
    """A decision of this type in this unit needs a second, different delegate's signature.

    With `above_amount` empty every decision of the type needs one; otherwise only
    decisions above that monthly amount. Returns for completion never do.
    """

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="second_signer_rules")
    decision_type = models.CharField(max_length=80)
    above_amount = models.PositiveIntegerField(
        null=True, blank=True, help_text="Kronor per month; empty = every decision of the type."
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    reference = models.CharField(max_length=120, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="second_signer_rule_valid_period",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
            ),
        ]

    def __str__(self) -> str:
        limit = f"> {self.above_amount} kr" if self.above_amount is not None else "always"
        return f"{self.unit.code}: {self.decision_type} second signer {limit}"


class DelegationChange(models.Model):
    """One change to the delegation order, with who made it, when, and both versions.

    Append-only (a database trigger refuses UPDATE and DELETE), so the order in
    force on any past date can be reconstructed.
    """

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        DELETED = "deleted", "Deleted"

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    model = models.CharField(max_length=40, help_text="delegation, substitution, secondsignerrule")
    object_id = models.PositiveBigIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["model", "object_id", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.model} {self.object_id} {self.action} by {self.changed_by_id}"


class ApiToken(models.Model):
    """Bearer token for an integration account. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.user.get_username()})"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return "rf_" + secrets.token_urlsafe(32)


def unit_group_name(unit: Unit) -> str:
    return f"unit:{unit.code}"


class PasswordMustChange(models.Model):
    """An account whose password was set by someone else: its owner changes it before signing.

    Written and removed only by municipality.account_audit (a password set by another
    account, or reset outside a request, creates the row; the owner's own change removes
    it). While the row exists the gate refuses her signature and every page sends her to
    the password-change page.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="password_must_change",
    )
    # Who set the password (None: outside any request, e.g. a management command).
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    set_by_label = models.CharField(max_length=200)
    set_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id} must change the password set by {self.set_by_label}"
