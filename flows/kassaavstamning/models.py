"""The files an import delivered, kept as received (they are small) with their hashes.

The case of the import (approvals.Case) carries only the hashes in its payload; the
bytes stay here so that the reconciliation can be re-run and audited on exactly
what arrived.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

SHA256_LENGTH = 64
FILE_FIELDS = ("bank", "ledger", "till")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_sha256(*, bank_sha256: str, ledger_sha256: str, till_sha256: str) -> str:
    """The identity of an import: SHA-256 over the three files' hashes, in a fixed order.

    The same three files give the same import (and the same case) however they arrive.
    """
    text = f"bank:{bank_sha256}\nledger:{ledger_sha256}\ntill:{till_sha256}\n"
    return sha256_hex(text.encode("ascii"))


class KassaImport(models.Model):
    """One delivery of a bank statement, a ledger export and the tills' Z-reports."""

    class Source(models.TextChoices):
        API = "api", "POST /api/v1/imports/"
        FOLDER = "folder", "Importmapp"
        COMMAND = "command", "Kommando"

    sha256 = models.CharField(max_length=SHA256_LENGTH, unique=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    bank = models.BinaryField()
    bank_name = models.CharField(max_length=200)
    bank_sha256 = models.CharField(max_length=SHA256_LENGTH)
    ledger = models.BinaryField()
    ledger_name = models.CharField(max_length=200)
    ledger_sha256 = models.CharField(max_length=SHA256_LENGTH)
    till = models.BinaryField()
    till_name = models.CharField(max_length=200)
    till_sha256 = models.CharField(max_length=SHA256_LENGTH)
    # The takings days the Z-reports cover, and the statement's last booking day.
    first_day = models.DateField()
    last_day = models.DateField()
    statement_last_day = models.DateField(null=True, blank=True)
    config_version = models.CharField(max_length=40)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    case = models.OneToOneField(
        "approvals.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="kassa_import",
    )
    # Set once, by the step that reconciled it (flow run or daily run), under a row lock.
    reconciled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="kassa_import_sha256_is_sha256",
                condition=Exact(Length("sha256"), SHA256_LENGTH),
            ),
            models.CheckConstraint(
                name="kassa_import_days_ordered", condition=Q(first_day__lte=models.F("last_day"))
            ),
        ]

    def __str__(self) -> str:
        return f"import {self.sha256[:12]} ({self.first_day}–{self.last_day})"

    def files(self) -> dict[str, bytes]:
        return {name: bytes(getattr(self, name)) for name in FILE_FIELDS}
