"""The intake API for applicants' systems (e-service, integration platform).

POST /api/v1/applications/ starts a case; the OpenAPI schema is served at
/api/v1/openapi.json and browsable at /api/v1/docs.
"""

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer
from pydantic import ValidationError

from municipality.models import ApiToken, Staff

from . import callbacks, services
from .models import Case, Document, RejectedSubmission
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


def _reject(request, *, status: int, errors: dict, user=None) -> JsonResponse:
    """Keep what was received, then answer with an error per field."""
    body = request.body[: settings.APPLICATION_MAX_BYTES]
    RejectedSubmission.objects.create(
        received_by=user,
        path=request.path[:200],
        raw_body=body.decode("utf-8", errors="replace"),
        truncated=len(request.body) > len(body),
        errors=errors,
    )
    return JsonResponse({"errors": errors}, status=status)


def _parse(request: HttpRequest, model_for):
    """Return (raw text, validated model, None), or (None, None, error response).

    `model_for(data)` names the schema the body must follow (the process's own), or
    returns a dict of errors when no schema applies.
    """
    if len(request.body) > settings.APPLICATION_MAX_BYTES:
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
        raw = request.body.decode("utf-8")
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return (
            None,
            None,
            _reject(
                request, status=400, user=request.auth, errors={"body": [f"Malformed JSON: {exc}"]}
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
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Application"}}
            },
        }
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
    except services.ServiceError as exc:
        status = 409 if exc.code == services.APPLICATION_DUPLICATE_DIFFERS else 400
        return _reject(
            request, status=status, user=request.auth, errors={"external_ref": [exc.message]}
        )
    return (201 if created else 200), _status(request, case)


@api.get(
    "/applications/{case_id}/",
    auth=IntegrationToken(),
    response={200: CaseStatusOut, 404: ErrorOut},
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
    response={202: CaseStatusOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut},
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
    response={404: ErrorOut},
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
    endpoint = callbacks.endpoint_register(user=request.auth, url=str(body.url))
    return 200, {
        "url": endpoint.url,
        "secret": endpoint.secret,
        "signature": callbacks.SIGNATURE_SCHEME,
    }


@api.get(
    "/processes/",
    auth=IntegrationToken(),
    response={200: list[ProcessOut]},
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
