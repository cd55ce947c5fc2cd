"""Issuing a settled certificate: PDF/A with a verification code, stored, delivered, completed.

The core's services.document_create renders with plain WeasyPrint (no PDF/A variant and
no pre-rendered bytes), so the certificate's Document is stored here with the same
trail event (`document.created` with its hash); the case is then completed as the
robot's act (services.case_complete_by_robot) in the same transaction, together with
the Verification that `/verify/<code>/` reads.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from approvals import services
from approvals.audit import Kind, audit_append
from approvals.hashing import sha256_hex
from approvals.models import Case, Document

from .connectors import get_delivery_connector
from .models import Verification
from .pdf import TITLES, certificate_with_verification, render_certificate_pdf
from .rules import KIND_ARBETSGIVARINTYG
from .verification import verification_code_new, verification_code_normalise

ISSUE_STEP = "issue"
ISSUED = "issued"


def verification_for_case(case: Case) -> Verification | None:
    return Verification.objects.filter(document__case=case).select_related("document").first()


def certificate_issue(*, case_id: int, content: dict, flow_run_id: str) -> Verification:
    """Print, store and (for an arbetsgivarintyg) deliver the certificate; idempotent per case."""
    case = Case.objects.get(pk=case_id)
    existing = verification_for_case(case)
    if existing is not None:
        return existing
    code = verification_code_new()
    printed = certificate_with_verification(content, code=code, site_url=settings.SITE_URL)
    pdf = render_certificate_pdf(printed)
    receipt = None
    if content["kind"] == KIND_ARBETSGIVARINTYG:
        # Delivered before anything is stored: the delivery is idempotent by the case's
        # reference and the content (without the random code) is the same on a re-run.
        receipt = get_delivery_connector().deliver(delivery_id=case.external_ref, payload=content)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        existing = verification_for_case(case)
        if existing is not None:
            return existing
        document = Document.objects.create(
            case=case,
            kind=Document.Kind.CERTIFICATE,
            pdf=pdf,
            sha256=sha256_hex(pdf),
            title=TITLES[content["kind"]],
        )
        audit_append(
            kind=Kind.DOCUMENT_CREATED,
            actor_label=f"robot:{case.process}/{ISSUE_STEP}",
            case=case,
            data={
                "document": document.pk,
                "kind": document.kind,
                "decision": None,
                "sha256": document.sha256,
            },
        )
        verification = Verification.objects.create(
            code=verification_code_normalise(code),
            document=document,
            document_sha256=document.sha256,
            kind=content["kind"],
            issuer=content["employer"]["name"],
            issuer_organisation_number=content["employer"]["organisation_number"],
        )
        services.case_complete_by_robot(
            case_id=case.pk,
            step=ISSUE_STEP,
            outcome=ISSUED,
            data={
                "document": document.pk,
                "sha256": document.sha256,
                "kind": content["kind"],
                "flow_run": flow_run_id,
                "delivery_sha256": receipt.payload_sha256 if receipt else None,
            },
        )
    return verification
