"""Documents the robots write (letters, certificates, requests, rosters): rendered once,
stored with their hash, recorded on the trail."""

from django.db import transaction

from ..audit import Kind, audit_append
from ..hashing import sha256_hex
from ..models import Case, Decision, Document
from ..printing import html_to_pdf, render_html


def document_create(
    *,
    case: Case,
    kind: str,
    template: str,
    context: dict,
    title: str = "",
    decision: Decision | None = None,
    actor_label: str = "robot:document",
    on_created=None,
) -> tuple[Document, bool]:
    """Render and store a document; one per (decision, kind). Returns (document, created).

    `on_created(document)` runs in the same transaction when the document is new, so
    that what the document carries out (a case closed) happens exactly with it.
    """
    if decision is not None:
        existing = Document.objects.filter(decision=decision, kind=kind).first()
        if existing is not None:
            return existing, False
    html = render_html(template, {**context, "case": case, "decision": decision})
    pdf = html_to_pdf(html)
    with transaction.atomic():
        if decision is not None:
            document, created = Document.objects.get_or_create(
                decision=decision,
                kind=kind,
                defaults={"case": case, "pdf": pdf, "sha256": sha256_hex(pdf), "title": title},
            )
        else:
            document, created = (
                Document.objects.create(
                    case=case, kind=kind, pdf=pdf, sha256=sha256_hex(pdf), title=title
                ),
                True,
            )
        if created:
            audit_append(
                kind=Kind.DOCUMENT_CREATED,
                actor_label=actor_label,
                case=case,
                data={
                    "document": document.pk,
                    "kind": kind,
                    "decision": decision.pk if decision else None,
                    "sha256": document.sha256,
                },
            )
            if on_created is not None:
                on_created(document)
    return document, created
