"""Refused reads: who was answered 403 or 404, for what, from where.

"Forbidden" and "not found" look the same to the user (views raise Http404 for both),
so a person probing other units' case numbers sees nothing; the log keeps every such
answer to a logged-in user for the access-log review. The middleware logs the answer;
a view that knows more (the object existed but the grant did not cover it) calls
:func:`read_refused_record` with what and which id.
"""

import logging

logger = logging.getLogger("robotfabrik.access")

READ_REFUSED = "read_refused"


def _who(request) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "anonymous"
    return f"user:{user.pk}"


def read_refused_record(*, request, what: str, object_id, reason: str = "not_permitted") -> None:
    """Log that ``request.user`` was refused ``what`` ``object_id`` (ids only, no names)."""
    logger.warning(
        "%s %s who=%s what=%s id=%s reason=%s ip=%s path=%s",
        READ_REFUSED,
        request.method,
        _who(request),
        what,
        object_id,
        reason,
        request.META.get("REMOTE_ADDR", "-"),
        request.path,
    )
    request._read_refused_recorded = True


class RefusedReadLogMiddleware:
    """Logs every 403/404 answered to a logged-in user (unless the view logged it itself)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            response.status_code in (403, 404)
            and user is not None
            and user.is_authenticated
            and not getattr(request, "_read_refused_recorded", False)
        ):
            match = getattr(request, "resolver_match", None)
            read_refused_record(
                request=request,
                what=match.view_name if match else "unknown_url",
                object_id=",".join(str(v) for v in match.kwargs.values()) if match else "-",
                reason=f"http_{response.status_code}",
            )
        return response
