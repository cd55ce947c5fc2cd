"""The operators' robot catalogue: every process, its volumes, health, time and effect.

Read only, and process-level figures only: no case, person or personnummer is
shown, so reads are not logged case by case. Reachable only with the
municipality.view_operations grant held by a human account (the "operators"
group or a direct grant). The superuser flag grants nothing here, integration
and robot accounts never get in, and everyone else is refused with 403;
anonymous visitors are sent to the login page.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from . import prefect_gateway
from .access import may_operate
from .operations import (
    PENDING_STUCK_MINUTES,
    PENDING_WATCH_MINUTES,
    WINDOW_DAYS,
    catalogue_as_json,
    process_catalogue,
)


def operations_grant_held(user) -> bool:
    """Whether the user holds the robot-catalogue grant as a human employee."""
    return may_operate(user)


def operators_only(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        # Anonymous: log in first. Logged in without the grant: refused outright.
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not operations_grant_held(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@operators_only
def catalogue(request):
    now = timezone.now()
    return render(
        request,
        "approvals/operations.html",
        {
            "catalogue": process_catalogue(now=now),
            "prefect_reachable": prefect_gateway.prefect_health(),
            "window_days": WINDOW_DAYS,
            "watch_minutes": PENDING_WATCH_MINUTES,
            "stuck_minutes": PENDING_STUCK_MINUTES,
        },
    )


@operators_only
def catalogue_json(request):
    now = timezone.now()
    return JsonResponse(
        catalogue_as_json(
            catalogue=process_catalogue(now=now),
            prefect_reachable=prefect_gateway.prefect_health(),
            generated_at=now,
        ),
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
