"""Response headers every page gets: Content-Security-Policy and Cache-Control.

Django 5.2 has no Content-Security-Policy of its own. The project's pages load one
stylesheet from /static/, run no script and use no inline style, so the policy can be
strict. Two kinds of response differ:

- documents served as HTML (the decision material, shown in an iframe of the case page)
  carry their own inline <style> from the print template: they get a sandboxed policy
  with no script at all and nothing loaded from anywhere;
- django-ninja's API docs page loads Swagger UI from a CDN with an inline script.

Personal data must not stay in a browser's or proxy's cache: every response to a
logged-in user, every response to a request with credentials, and every PDF is sent
with ``Cache-Control: no-store``.
"""

from django.conf import settings

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# A served document: inline styles of the print template, images inline only, no script,
# no form, shown only inside this site's own pages.
DOCUMENT_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",
        "sandbox",
    ]
)
API_DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'",
        "style-src 'self' https://cdn.jsdelivr.net",
        "img-src 'self' data: https://django-ninja.dev",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
# Views (as "namespace:name") whose HTML is a document, not a page of the application.
DOCUMENT_VIEWS = frozenset({"approvals:material", "approvals:audit_material"})
API_DOCS_VIEWS = frozenset({"api:openapi-view"})


def content_security_policy(request) -> str:
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match else ""
    if view in DOCUMENT_VIEWS:
        return DOCUMENT_POLICY
    if view in API_DOCS_VIEWS:
        return API_DOCS_POLICY
    return PAGE_POLICY


def is_personal(request, response) -> bool:
    """Whether a response may hold personal data and must not be stored by any cache."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    if "HTTP_AUTHORIZATION" in request.META:
        return True  # API clients with a token get their cases' status
    return response.get("Content-Type", "").startswith("application/pdf")


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        header = (
            "Content-Security-Policy-Report-Only"
            if settings.CSP_REPORT_ONLY
            else "Content-Security-Policy"
        )
        if header not in response:
            response[header] = content_security_policy(request)
        if is_personal(request, response):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
            if "Expires" in response:
                del response["Expires"]
        return response
