"""POST /api/v1/runs/skolplikt/: the process owner starts the monthly scan for a month.

The same scan step as the monthly Prefect schedule (flows.skolplikt.steps.scan_and_open),
run in the request: the scan reads files or one SS 12000 API and writes only the cases,
whose own flow runs the core's outbox then starts. A second run for the same month opens
nothing new (200 instead of 201).
"""

from django.http import JsonResponse
from ninja import Router

from approvals.api import IntegrationToken, _parse, _reject
from approvals.schemas import ErrorOut

from .connectors.population import PopulationRegisterError
from .connectors.ss12000 import Ss12000Error
from .process import PROCESS
from .rulesets import RulesetError, ruleset_for_month
from .schemas import RunIn, RunOut

router = Router(tags=["skolplikt"])


class ProcessOwnerToken(IntegrationToken):
    """An integration account of the process's own unit (the process owner's runs).

    Other units' integration accounts (an e-service for another process) are refused like
    a missing token: they have no business starting this robot.
    """

    def authenticate(self, request, token):
        user = super().authenticate(request, token)
        unit = getattr(getattr(user, "staff", None), "unit", None)
        if user is None or unit is None or unit.code != PROCESS.unit_code:
            return None
        return user


@router.post(
    "/runs/skolplikt/",
    auth=ProcessOwnerToken(),
    response={200: RunOut, 201: RunOut, 400: ErrorOut, 401: ErrorOut, 502: ErrorOut},
    url_name="skolplikt_run",
    summary="Scan a month for bevakning av skolplikten; opens a case per flagged child",
)
def skolplikt_run(request):
    from .steps import ScanRunError, month_valid, scan_and_open

    raw, body, refused = _parse(request, lambda data: RunIn)
    if refused is not None:
        return refused
    try:
        month = month_valid(body.month)
        ruleset_for_month(month)
    except RulesetError as exc:
        return _reject(request, status=400, user=request.auth, errors={"month": [exc.message]})
    try:
        summary = scan_and_open(month=month, requested_by=request.auth)
    except (Ss12000Error, PopulationRegisterError, ScanRunError) as exc:
        # The sources could not be read: nothing was opened; the caller may try again.
        return JsonResponse({"errors": {"source": [f"{exc.code}: {exc.message}"]}}, status=502)
    return (201 if summary["opened"] else 200), summary
