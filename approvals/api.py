"""The intake API for applicants' systems (e-service, integration platform).

POST /api/v1/applications/ starts a case; the OpenAPI schema is served at
/api/v1/openapi.json and browsable at /api/v1/docs.
"""

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from pydantic import ValidationError

from municipality.models import ApiToken, Staff

from . import callbacks, services
from .models import CallbackEndpoint, Case, Document, RejectedSubmission
from .registry import Trigger, registry
from .schemas import CallbackIn, CallbackOut, CaseStatusOut, ErrorOut, ProcessOut


class IntegrationToken(HttpBearer):
    """Bearer token of an active integration account."""

    def authenticate(self, request, token):
        row = (
            ApiToken.objects.select_related("user__staff")
            .filter(token_sha256=ApiToken.hash(token), revoked_at__isnull=True)
            .first()
        )
        # Tokens of humans or robots, revoked tokens and inactive accounts are refused alike.
        if row is None or not row.user.is_active:
            return None
        staff = getattr(row.user, "staff", None)
        if staff is None or staff.kind != Staff.Kind.INTEGRATION:
            return None
        return row.user


api = NinjaAPI(
    title="Robotfabrik intake API",
    version="1",
    urls_namespace="api",
    description="Incoming applications for municipal processes. Amounts are whole kronor per month.",
)


@api.exception_handler(NinjaValidationError)
def _invalid_parameters(request, exc):
    """Path or query parameters that do not parse (e.g. a case number that is not a number):
    the same error shape as every other refusal."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = ".".join(str(p) for p in error.get("loc", ())[1:]) or "request"
        errors.setdefault(loc, []).append(str(error.get("msg", "Invalid value.")))
    return JsonResponse({"errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def _unauthorised(request, exc):
    return JsonResponse(
        {"errors": {"authorization": ["A valid integration token is required."]}}, status=401
    )


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "body"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "Unknown field."
        errors.setdefault(loc, []).append(message)
    return errors


def _body(request) -> bytes | None:
    """The request body, or None when it is larger than Django will read."""
    try:
        return request.body
    except RequestDataTooBig:
        return None


def keepable_text(data: bytes) -> str:
    """Bytes as text PostgreSQL can keep: invalid UTF-8 replaced, NUL written as \\x00."""
    return data.decode("utf-8", errors="replace").replace("\x00", "\\x00")


def _reject(request, *, status: int, errors: dict, user=None) -> JsonResponse:
    """Keep what was received (escaped where the database could not hold it), then answer
    with an error per field, always in this one shape."""
    received = _body(request)
    body = (received or b"")[: settings.APPLICATION_MAX_BYTES]
    RejectedSubmission.objects.create(
        received_by=user,
        path=request.path[:200],
        raw_body=keepable_text(body),
        truncated=received is None or len(received) > len(body),
        errors=errors,
    )
    return JsonResponse({"errors": errors}, status=status)


def _refuse_saturated(request, exc) -> JsonResponse:
    """503 with Retry-After in the one refusal shape. The body is kept like every refusal's,
    unless the database is too busy even for that: the answer does not wait on it."""
    errors = {"service": [exc.message]}
    try:
        with transaction.atomic():
            response = _reject(request, status=503, user=request.auth, errors=errors)
    except DatabaseError:
        response = JsonResponse({"errors": errors}, status=503)
    response["Retry-After"] = str(max(1, exc.retry_after))
    return response


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(f"the key {key!r} appears twice")
        seen[key] = value
    return seen


def _nul_paths(value, path="") -> list[str]:
    """Where a string holds a NUL or another control character no field accepts."""
    if isinstance(value, str):
        return [path or "body"] if any(ord(c) < 32 and c not in "\t\n\r" for c in value) else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nul_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, f"{path}.{i}")]
    return []


def _parse(request: HttpRequest, model_for):
    """Return (raw text, validated model, None), or (None, None, error response).

    `model_for(data)` names the schema the body must follow (the process's own), or
    returns a dict of errors when no schema applies. Every refusal is JSON in one shape
    and the body is kept (RejectedSubmission); nothing here raises a server error.
    """
    body = _body(request)
    if body is None or len(body) > settings.APPLICATION_MAX_BYTES:
        return (
            None,
            None,
            _reject(
                request,
                status=413,
                user=request.auth,
                errors={
                    "body": [f"The body is larger than {settings.APPLICATION_MAX_BYTES} bytes."]
                },
            ),
        )
    try:
        raw = body.decode("utf-8")
        data = json.loads(raw, object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # Malformed JSON, a duplicated key, a number too long to read, nesting too deep.
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:300]
        return (
            None,
            None,
            _reject(
                request,
                status=400,
                user=request.auth,
                errors={"body": [f"Malformed JSON: {message}"]},
            ),
        )
    if not isinstance(data, dict):
        return (
            None,
            None,
            _reject(
                request,
                status=400,
                user=request.auth,
                errors={"body": ["The body must be a JSON object."]},
            ),
        )
    controls = _nul_paths(data)
    if controls:
        return (
            None,
            None,
            _reject(
                request,
                status=400,
                user=request.auth,
                errors={p: ["Control characters (such as NUL) are not allowed."] for p in controls},
            ),
        )
    model = model_for(data)
    if isinstance(model, dict):
        return None, None, _reject(request, status=400, user=request.auth, errors=model)
    try:
        return raw, model.model_validate(data), None
    except ValidationError as exc:
        return (
            None,
            None,
            _reject(request, status=400, user=request.auth, errors=_field_errors(exc)),
        )


def _api_processes():
    return [p for p in registry.all() if Trigger.API in p.triggers and p.application_model]


def _application_model(data: dict):
    """The schema of the process the body names; an error per field when there is none."""
    slug = data.get("process")
    spec = registry.get(slug) if isinstance(slug, str) else None
    if spec is None or Trigger.API not in spec.triggers or spec.application_model is None:
        known = ", ".join(p.slug for p in _api_processes())
        return {"process": [f"Unknown process {slug!r}; this API takes: {known}."]}
    return spec.application_model


def _supplement_model(case: Case):
    spec = registry.get(case.process)
    if spec is None or spec.supplement_model is None:
        return {"case": ["This process takes no supplements."]}
    return spec.supplement_model


def _status(request, case: Case) -> dict:
    decision = None
    last = (
        case.requests.filter(decision__isnull=False)
        .order_by("-pk")
        .select_related("decision")
        .first()
    )
    if last is not None:
        decision = {
            "outcome": last.decision.outcome,
            "signed_at": timezone.localtime(last.decision.signed_at).isoformat(),
            "executed": last.decision.executed_at is not None,
        }
    return {
        "id": case.pk,
        "external_ref": case.external_ref,
        "process": case.process,
        "status": case.status,
        "status_url": request.build_absolute_uri(reverse("api:application_status", args=[case.pk])),
        "decision": decision,
        "completion": (
            {
                "missing": last.decision.motivation,
                "due": case.completion_due.isoformat() if case.completion_due else None,
            }
            if case.status == Case.Status.RETURNED and last is not None
            else None
        ),
        "documents": [
            {
                "id": d.pk,
                "kind": d.kind,
                "title": d.title,
                "sha256": d.sha256,
                "created_at": timezone.localtime(d.created_at).isoformat(),
                "url": request.build_absolute_uri(
                    reverse("api:application_document", args=[case.pk, d.pk])
                ),
            }
            for d in case.documents.defer("pdf").order_by("pk")
        ],
        "flags": [
            {"code": f["code"], "text": f["text"]} for f in case.data.get("intake_flags", [])
        ],
    }


@api.post(
    "/applications/",
    auth=IntegrationToken(),
    response={
        200: CaseStatusOut,
        201: CaseStatusOut,
        400: ErrorOut,
        401: ErrorOut,
        409: ErrorOut,
        413: ErrorOut,
        503: ErrorOut,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Application"}}
            },
        },
        # ninja keys its responses by int: the same key, so the two are merged.
        "responses": {
            503: {
                "description": (
                    "Intake is saturated (the robots' backlog is over its limit, or the "
                    "database did not grant a lock in time). Nothing was stored: send the "
                    "same application again after Retry-After seconds. A repeat of an "
                    "application already accepted is answered 200, saturated or not."
                ),
                "headers": {
                    "Retry-After": {
                        "description": "Seconds to wait before sending it again.",
                        "schema": {"type": "integer", "minimum": 1},
                    }
                },
            }
        },
    },
    summary="Submit an application; starts the process's robot at once",
)
def application_create(request):
    raw, application, refused = _parse(request, _application_model)
    if refused is not None:
        return refused
    try:
        case, created = services.application_receive(
            raw_body=raw, application=application.model_dump(mode="json"), received_by=request.auth
        )
    except services.IntakeSaturated as exc:
        return _refuse_saturated(request, exc)
    except services.ServiceError as exc:
        status = 409 if exc.code == services.APPLICATION_DUPLICATE_DIFFERS else 400
        return _reject(
            request, status=status, user=request.auth, errors={"external_ref": [exc.message]}
        )
    return (201 if created else 200), _status(request, case)


@api.get(
    "/applications/{case_id}/",
    auth=IntegrationToken(),
    response={200: CaseStatusOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    url_name="application_status",
    summary="Status of a case submitted by this integration account",
)
def application_status(request, case_id: int):
    # Only the account that submitted the case may read its status; others get 404.
    case = Case.objects.filter(pk=case_id, received_by=request.auth).first()
    if case is None:
        raise HttpError(404, "Not found.")
    return 200, _status(request, case)


@api.post(
    "/applications/{case_id}/supplements/",
    auth=IntegrationToken(),
    response={
        202: CaseStatusOut,
        400: ErrorOut,
        401: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Supplement"}}
            },
        }
    },
    summary="Send the information a caseworker asked for; the robot recompiles the material",
)
def supplement_create(request, case_id: int):
    case = Case.objects.filter(pk=case_id, received_by=request.auth).first()
    if case is None:
        raise HttpError(404, "Not found.")
    raw, supplement, refused = _parse(request, lambda data: _supplement_model(case))
    if refused is not None:
        return refused
    try:
        services.supplement_receive(
            case_id=case.pk,
            raw_body=raw,
            data=supplement.model_dump(mode="json", exclude_unset=True),
            received_by=request.auth,
        )
    except services.ServiceError as exc:
        return _reject(request, status=409, user=request.auth, errors={"case": [exc.message]})
    case.refresh_from_db()
    return 202, _status(request, case)


@api.get(
    "/applications/{case_id}/documents/{document_id}/",
    auth=IntegrationToken(),
    response={401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    url_name="application_document",
    summary="A document of the case (decision letter, request for completion) as PDF",
)
def application_document(request, case_id: int, document_id: int):
    # Only the account that submitted the case; another account's case is "not found".
    document = Document.objects.filter(
        pk=document_id, case_id=case_id, case__received_by=request.auth
    ).first()
    if document is None:
        raise HttpError(404, "Not found.")
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.kind}-{case_id}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@api.put(
    "/callback/",
    auth=IntegrationToken(),
    response={200: CallbackOut, 400: ErrorOut, 401: ErrorOut},
    summary="Register the URL that hears of every status change (HMAC-signed POSTs)",
)
def callback_register(request, body: CallbackIn):
    url = str(body.url)
    # The normalised URL (a "/" may be added) must still fit what is stored.
    if len(url) > CallbackEndpoint._meta.get_field("url").max_length:
        return _reject(
            request, status=400, user=request.auth, errors={"url": ["The URL is too long."]}
        )
    endpoint = callbacks.endpoint_register(user=request.auth, url=url)
    return 200, {
        "url": endpoint.url,
        "secret": endpoint.secret,
        "signature": callbacks.SIGNATURE_SCHEME,
    }


@api.get(
    "/processes/",
    auth=IntegrationToken(),
    response={200: list[ProcessOut], 401: ErrorOut},
    summary="The registered processes: how their cases start and who decides",
)
def process_list(request):
    return 200, [spec.as_dict() for spec in registry.all()]


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return JsonResponse({"errors": {"detail": [str(exc)]}}, status=exc.status_code)


def _component(components: dict, name: str, model) -> dict:
    generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for key, definition in generated.pop("$defs", {}).items():
        components.setdefault(key, definition)
    components[name] = generated
    return {"$ref": f"#/components/schemas/{name}"}


def _add_component_schemas(schema: dict) -> dict:
    """One body schema per registered process (its own pydantic models), offered as oneOf."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    applications, supplements = [], []
    for spec in _api_processes():
        prefix = "".join(part.capitalize() for part in spec.slug.split("-"))
        for models, model in (
            (applications, spec.application_model),
            (supplements, spec.supplement_model),
        ):
            if model is None:
                continue
            # The model's own name, unless another process already took it.
            name = model.__name__ if model.__name__ not in components else prefix + model.__name__
            models.append(_component(components, name, model))
    components["Application"] = {
        "oneOf": applications,
        "description": "The body of the process named in its `process` field.",
    }
    components["Supplement"] = {"oneOf": supplements} if supplements else {"type": "object"}
    return schema


def _add_process_routers() -> None:
    """A process may serve API operations of its own: a ninja Router named `router` in
    flows/<pkg>/api.py, mounted at /api/v1/ (its paths start with the process slug)."""
    import importlib

    for spec in registry.all():
        try:
            module = importlib.import_module(f"{spec.package}.api")
        except ModuleNotFoundError as exc:
            # No such module, or a process declared outside flows/ (e.g. a test's).
            if exc.name not in (f"{spec.package}.api", spec.package):
                raise
            continue
        api.add_router("/", module.router)


_add_process_routers()

_original_get_openapi_schema = api.get_openapi_schema


def _openapi_schema(*args, **kwargs):
    return _add_component_schemas(_original_get_openapi_schema(*args, **kwargs))


api.get_openapi_schema = _openapi_schema
