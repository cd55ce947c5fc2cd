"""The intake API for applicants' systems (e-service, integration platform).

POST /api/v1/applications/ starts a case; the OpenAPI schema is served at
/api/v1/openapi.json and browsable at /api/v1/docs.
"""

import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer
from pydantic import ValidationError

from municipality.models import ApiToken, Staff

from . import services
from .models import Case, RejectedSubmission
from .schemas import ApplicationV1, CaseStatusOut, ErrorOut, SupplementV1


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


def _parse(request: HttpRequest, model):
    """Return (raw text, validated model, None), or (None, None, error response)."""
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
    try:
        return raw, model.model_validate(data), None
    except ValidationError as exc:
        return (
            None,
            None,
            _reject(request, status=400, user=request.auth, errors=_field_errors(exc)),
        )


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
                "application/json": {"schema": {"$ref": "#/components/schemas/ApplicationV1"}}
            },
        }
    },
    summary="Submit an application; starts the process's robot at once",
)
def application_create(request):
    raw, application, refused = _parse(request, ApplicationV1)
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
                "application/json": {"schema": {"$ref": "#/components/schemas/SupplementV1"}}
            },
        }
    },
    summary="Send the information a caseworker asked for; the robot recompiles the material",
)
def supplement_create(request, case_id: int):
    case = Case.objects.filter(pk=case_id, received_by=request.auth).first()
    if case is None:
        raise HttpError(404, "Not found.")
    raw, supplement, refused = _parse(request, SupplementV1)
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


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return JsonResponse({"errors": {"detail": [str(exc)]}}, status=exc.status_code)


def _add_component_schemas(schema: dict) -> dict:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ApplicationV1, SupplementV1):
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in generated.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components[model.__name__] = generated
    return schema


_original_get_openapi_schema = api.get_openapi_schema


def _openapi_schema(*args, **kwargs):
    return _add_component_schemas(_original_get_openapi_schema(*args, **kwargs))


api.get_openapi_schema = _openapi_schema
