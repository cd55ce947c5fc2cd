"""The anställningsintyg as PDF/A, with its verification code.

PDF/A because a certificate is a document the employer keeps and the employee may need
for years (Riksarkivet's FGS ask for PDF/A for documents kept long-term). The variant is
PDF/A-3u: level "u" guarantees that every character maps to Unicode, so the text a reader
or an archive extracts is the text printed (WeasyPrint 70 names it "pdf/a-3u"; it also
offers "pdf/a-2b", which does not promise extractable text). PDF/A-3 would also let
phase 2 embed the certificate's JSON content as an associated file.

The same content renders to the same bytes (no random document id, the creation date is
the issue date), so the document hash stored with the verification code can be
recomputed.
"""

from __future__ import annotations

import hashlib

from approvals.printing import render_html
from flows.anstallningsintyg.verification import (
    VerificationCodeError,
    format_code,
    verification_code_normalise,
    verify_url,
)

CERTIFICATE_TEMPLATE = "anstallningsintyg/certificate.html"
ARBETSGIVARINTYG_TEMPLATE = "anstallningsintyg/arbetsgivarintyg.html"
# The employee's copy of what was delivered to the fund is printed the same way.
TEMPLATES = {
    "anstallningsintyg": CERTIFICATE_TEMPLATE,
    "arbetsgivarintyg": ARBETSGIVARINTYG_TEMPLATE,
}
TITLES = {"anstallningsintyg": "Anställningsintyg", "arbetsgivarintyg": "Arbetsgivarintyg"}
PDF_VARIANT = "pdf/a-3u"


class CertificateContentError(ValueError):
    """The content lacks what the PDF must print (e.g. the verification code)."""


def certificate_with_verification(content: dict, *, code: str, site_url: str) -> dict:
    """The content with the verification code and the address to check it at."""
    try:
        compact = verification_code_normalise(code)
    except VerificationCodeError as exc:
        raise CertificateContentError(exc.message) from None
    return {
        **content,
        "verification": {
            "code": format_code(compact),
            "url": verify_url(site_url=site_url, code=compact),
        },
    }


def render_certificate_html(content: dict) -> str:
    template = TEMPLATES.get(content.get("kind"))
    if template is None:
        raise CertificateContentError(
            "Only an anställningsintyg's or an arbetsgivarintyg's content can be printed here."
        )
    verification = content.get("verification") or {}
    if not verification.get("code") or not verification.get("url"):
        raise CertificateContentError(
            "The certificate has no verification code; add it with certificate_with_verification."
        )
    return render_html(template, {"c": content})


def render_certificate_pdf(content: dict) -> bytes:
    """PDF/A-3u bytes of the anställningsintyg (or the arbetsgivarintyg's copy). WeasyPrint is imported here: it loads Pango."""
    from weasyprint import HTML

    html = render_certificate_html(content)
    document = HTML(string=html, base_url=None).render()
    metadata = document.metadata
    # Title and language come from the template's <title> and <html lang="sv">.
    metadata.authors = [content["employer"]["name"]]
    metadata.created = content["issued_on"]
    metadata.modified = content["issued_on"]
    metadata.generator = "Robotfabrik"
    return document.write_pdf(pdf_variant=PDF_VARIANT)


def document_sha256(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()
