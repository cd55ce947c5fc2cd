"""HTML and PDF rendering of decision material and decision letters (WeasyPrint)."""

from django.template.loader import render_to_string

from .hashing import sha256_hex  # noqa: F401  (documents are hashed where they are rendered)


def render_html(template: str, context: dict) -> str:
    """Render a print template. Letters and material are Swedish legal documents: they are
    rendered in Swedish whatever language the caller's page is in, so that the same input
    always gives the same text and hash."""
    from django.utils import translation

    with translation.override("sv"):
        return render_to_string(template, context)


def html_to_pdf(html: str) -> bytes:
    """Render HTML to PDF. Imported lazily: WeasyPrint loads Pango on import."""
    from weasyprint import HTML

    return HTML(string=html, base_url=None).write_pdf()


def pdf_text(pdf: bytes) -> str:
    """The text a reader finds in a PDF (used by tests and the auditor export)."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
