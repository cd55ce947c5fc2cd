"""What the certificate robot keeps of its own: the verification code of each issued document.

The document itself (the PDF/A and its hash) is the core's `Document`; the code that
`/verify/<code>/` looks up, and what that page may show, is kept here.
"""

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

from approvals.models import Document

SHA256_LENGTH = 64


class Verification(models.Model):
    """A verification code printed on a certificate, and what checking it shows.

    Only the issuer, the time of issue and the document's hash are shown to whoever
    types the code (no login): nothing about the employee.
    """

    class Kind(models.TextChoices):
        ANSTALLNINGSINTYG = "anstallningsintyg", "Anställningsintyg"
        ARBETSGIVARINTYG = "arbetsgivarintyg", "Arbetsgivarintyg"

    # The canonical compact form (flows.anstallningsintyg.verification), never what was typed.
    code = models.CharField(max_length=16, unique=True)
    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="verification")
    document_sha256 = models.CharField(max_length=SHA256_LENGTH)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    issued_at = models.DateTimeField(default=timezone.now)
    issuer = models.CharField(max_length=200)
    issuer_organisation_number = models.CharField(max_length=11)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="verification_code_is_compact", condition=Exact(Length("code"), 16)
            ),
            models.CheckConstraint(
                name="verification_sha256_is_sha256",
                condition=Exact(Length("document_sha256"), SHA256_LENGTH),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code[:4]}… ({self.issued_at:%Y-%m-%d})"
