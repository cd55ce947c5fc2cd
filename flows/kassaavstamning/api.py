"""POST /api/v1/imports/: the bank statement, the ledger export and the Z-reports in one go.

multipart/form-data with three files, ``bank`` (camt.053), ``ledger`` (SIE 4) and
``till`` (Z-report CSV), from an integration account's bearer token. Each file is
read with the same reader the reconciliation uses; a refused file is answered 400
with its field name and the reader's error code and message, and the body is kept in
approvals.RejectedSubmission. The same three files again return the stored import
(200) and open nothing new; new files open one import case (201) whose flow run
reconciles them.
"""

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from ninja import Router, Schema

from approvals.api import IntegrationToken
from approvals.models import RejectedSubmission
from approvals.schemas import ErrorOut

from .intake import FILE_LABELS, ImportRefused, import_store
from .models import FILE_FIELDS, KassaImport

router = Router(tags=["kassaavstamning"])

# The three files of a month are well under a megabyte; Django refuses bodies larger
# than DATA_UPLOAD_MAX_MEMORY_SIZE before this is read.
IMPORT_MAX_BYTES = 2 * 1024 * 1024


class ImportFileOut(Schema):
    name: str
    sha256: str
    bytes: int


class ImportOut(Schema):
    id: int
    external_ref: str
    process: str
    status: str
    status_url: str
    first_day: str
    last_day: str
    files: dict[str, ImportFileOut]


def _kept_text(body: bytes) -> str:
    """The body as text for the rejection record: invalid bytes and NUL written as \\xNN."""
    return body.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")


def _reject(request, body: bytes, *, status: int, errors: dict) -> JsonResponse:
    kept = body[:IMPORT_MAX_BYTES]
    RejectedSubmission.objects.create(
        received_by=request.auth,
        path=request.path[:200],
        raw_body=_kept_text(kept),
        truncated=len(body) > len(kept),
        errors=errors,
    )
    return JsonResponse({"errors": errors}, status=status)


def _out(request, row: KassaImport) -> dict:
    case = row.case
    return {
        "id": case.pk,
        "external_ref": case.external_ref,
        "process": case.process,
        "status": case.status,
        "status_url": request.build_absolute_uri(
            reverse("api:application_status", args=[case.pk])
        ),
        "first_day": row.first_day.isoformat(),
        "last_day": row.last_day.isoformat(),
        "files": case.payload["files"],
    }


_FILE_SCHEMA = {"type": "string", "format": "binary"}


@router.post(
    "/imports/",
    auth=IntegrationToken(),
    response={200: ImportOut, 201: ImportOut, 400: ErrorOut, 401: ErrorOut, 413: ErrorOut},
    summary="Deliver a bank statement, a ledger export and the Z-reports; starts a reconciliation",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": list(FILE_FIELDS),
                        "properties": {
                            name: {**_FILE_SCHEMA, "description": FILE_LABELS[name]}
                            for name in FILE_FIELDS
                        },
                    }
                }
            },
        }
    },
)
def import_create(request):
    # The raw body is read first so that it can be kept if the files are refused
    # (Django cannot give it back once the multipart parser has consumed it).
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > min(IMPORT_MAX_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE):
        return JsonResponse(
            {"errors": {"body": [f"The body is larger than {IMPORT_MAX_BYTES} bytes."]}},
            status=413,
        )
    body = request.body
    if not request.content_type.startswith("multipart/form-data"):
        return _reject(
            request,
            body,
            status=400,
            errors={"body": ["Send multipart/form-data with the files bank, ledger and till."]},
        )
    files = {}
    for name in FILE_FIELDS:
        upload = request.FILES.get(name)
        if upload is not None:
            files[name] = (upload.name or name, upload.read())
    try:
        row, created = import_store(
            files=files, source=KassaImport.Source.API, received_by=request.auth
        )
    except ImportRefused as exc:
        return _reject(request, body, status=400, errors=exc.errors)
    return (201 if created else 200), _out(request, row)
