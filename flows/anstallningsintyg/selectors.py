"""Reads that feed the certificate pages and the operators' catalogue."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch

from approvals.models import ApprovalRequest, Case, Document

from .models import Verification
from .process import SLUG
from .verification import VerificationCodeError, verification_code_normalise


def requests_of_employee(*, personnummer: str):
    """Every certificate request about this employee, newest first, with its documents."""
    return (
        Case.objects.filter(
            process=SLUG, parties__personnummer=personnummer, parties__role="employee"
        )
        .prefetch_related(
            Prefetch(
                "documents",
                Document.objects.filter(kind=Document.Kind.CERTIFICATE).defer("pdf"),
            )
        )
        .order_by("-received_at", "-pk")
        .distinct()
    )


def certificate_of_employee(*, document_id: int, personnummer: str) -> Document | None:
    """The employee's own certificate, or None: another person's is as missing as none."""
    return (
        Document.objects.select_related("case")
        .filter(
            pk=document_id,
            kind=Document.Kind.CERTIFICATE,
            case__process=SLUG,
            case__parties__personnummer=personnummer,
            case__parties__role="employee",
        )
        .first()
    )


def verification_by_typed_code(typed: str) -> Verification | None:
    """The verification a typed code names; None for a mistyped code and an unknown one alike."""
    try:
        code = verification_code_normalise(typed)
    except VerificationCodeError:
        return None
    return Verification.objects.filter(code=code).first()


def automation_counts(*, since) -> dict:
    """Cases completed since `since`, and those of them the rules settled without a person."""
    completed = Case.objects.filter(
        process=SLUG, status=Case.Status.COMPLETED, decided_at__gte=since
    )
    with_person = ApprovalRequest.objects.filter(
        case=OuterRef("pk"), kind=ApprovalRequest.Kind.EXCEPTION
    )
    return {
        "handled": completed.count(),
        "automatic": completed.exclude(Exists(with_person)).count(),
    }
