"""Signed records checked against the trail: decisions, material and documents.

A decision row edited in the database, or inserted without a signing event, must not be
carried out; material or a document whose bytes no longer match the hash recorded when
it was made must not count. Each signed record's hash is on the hash chain (the event
that created it), so comparing the row with that event detects what the append-only
triggers could not stop (a table owner who disabled them).
"""

from dataclasses import dataclass

from .audit import Kind
from .hashing import canonical_sha256, sha256_hex
from .models import AuditEvent, Decision, Document, Material

# The fields a signature covers; only verification and execution times change afterwards.
DECISION_SIGNED_FIELDS = (
    "request_id",
    "outcome",
    "authority_amount",
    "decided",
    "grants_amount",
    "motivation",
    "signer_id",
    "signer_name",
    "signer_title",
    "on_behalf_of_id",
    "substitution_id",
    "delegation_id",
    "signed_at",
    "material_id",
    "material_sha256",
    "material_opened_at",
    "followed_proposal",
    "adjustments",
    "cosignature_required",
)


def decision_content_sha256(decision: Decision) -> str:
    """SHA-256 of what the signer signed (canonical JSON of the signed fields)."""
    content = {}
    for name in DECISION_SIGNED_FIELDS:
        value = getattr(decision, name)
        content[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return canonical_sha256(content)


@dataclass(frozen=True)
class RecordProblem:
    model: str
    pk: int
    reason: str

    def __str__(self) -> str:
        return f"{self.model} {self.pk}: {self.reason}"


def decision_problem(decision: Decision) -> RecordProblem | None:
    event = (
        AuditEvent.objects.filter(kind=Kind.DECISION_SIGNED, data__decision=decision.pk)
        .order_by("seq")
        .first()
    )
    # No signing event: the row was written past the gate.
    if event is None:
        return RecordProblem("decision", decision.pk, "no signing event on the trail")
    recorded = event.data.get("decision_sha256")
    if recorded is not None and recorded != decision_content_sha256(decision):
        return RecordProblem("decision", decision.pk, "differs from what was signed")
    if recorded is None and (
        event.data.get("outcome") != decision.outcome
        or event.data.get("amount") != decision.authority_amount
    ):
        # Signed before content hashes were recorded: outcome and sum still must match.
        return RecordProblem("decision", decision.pk, "differs from what was signed")
    return None


def material_problem(material: Material) -> RecordProblem | None:
    if sha256_hex(material.html) != material.sha256 or sha256_hex(bytes(material.pdf)) != (
        material.pdf_sha256
    ):
        return RecordProblem("material", material.pk, "content does not match its hash")
    event = AuditEvent.objects.filter(kind=Kind.MATERIAL_COMPILED, material=material).first()
    if event is None:
        return RecordProblem("material", material.pk, "no compile event on the trail")
    if (event.data.get("sha256"), event.data.get("pdf_sha256")) != (
        material.sha256,
        material.pdf_sha256,
    ):
        return RecordProblem("material", material.pk, "differs from what was compiled")
    return None


def document_problem(document: Document) -> RecordProblem | None:
    if sha256_hex(bytes(document.pdf)) != document.sha256:
        return RecordProblem("document", document.pk, "content does not match its hash")
    events = AuditEvent.objects.filter(
        kind__in=(Kind.DOCUMENT_CREATED, Kind.LEGACY_LETTER_CREATED), case_id=document.case_id
    )
    if not any(e.data.get("sha256") == document.sha256 for e in events):
        return RecordProblem("document", document.pk, "no creation event with its hash")
    return None


def records_verify() -> RecordProblem | None:
    """The first signed record that does not match the trail, or None."""
    for decision in Decision.objects.order_by("pk").iterator():
        problem = decision_problem(decision)
        if problem:
            return problem
    for material in Material.objects.order_by("pk").iterator():
        problem = material_problem(material)
        if problem:
            return problem
    for document in Document.objects.order_by("pk").iterator():
        problem = document_problem(document)
        if problem:
            return problem
    return None
