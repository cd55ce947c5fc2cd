"""The certificate robot's pages: self-service, HR requests, settling exceptions, verification.

Thin: requests go through intake.certificate_request_open, settlements through
services.exception_settle, every "who may" through approvals.access or this package's
access module, and forbidden looks exactly like missing (404).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from approvals import access, services
from approvals.models import ApprovalRequest

from . import selectors
from .access import may_request_for_anyone, own_personnummer
from .forms import HRRequestForm, SelfServiceRequestForm, SettleForm
from .intake import CertificateRequestRefused, certificate_request_open
from .panel import case_panel_context
from .process import SLUG


def _refused(form, exc: CertificateRequestRefused) -> None:
    form.add_error(None if exc.field == "__all__" else exc.field, _(exc.message))


@login_required
@require_http_methods(["GET", "POST"])
def self_service(request):
    """An employee asks for their own certificate and finds the ones issued."""
    personnummer = own_personnummer(request.user)
    form = SelfServiceRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = certificate_request_open(user=request.user, kind=form.cleaned_data["kind"])
        except CertificateRequestRefused as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Your request %(ref)s is received.") % {"ref": case.pk})
            return redirect("anstallningsintyg:self_service")
    cases = list(selectors.requests_of_employee(personnummer=personnummer)) if personnummer else []
    return render(
        request,
        "anstallningsintyg/self_service.html",
        {
            "form": form,
            "linked": personnummer is not None,
            "cases": cases,
            "may_request_for_anyone": may_request_for_anyone(request.user),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def own_certificate_pdf(request, document_id: int):
    """The employee's own certificate; anyone else's is a 404, like a missing one."""
    personnummer = own_personnummer(request.user)
    document = (
        selectors.certificate_of_employee(document_id=document_id, personnummer=personnummer)
        if personnummer
        else None
    )
    if document is None:
        raise Http404
    services.case_access_record(
        user=request.user, case=document.case, what="document_pdf", purpose="self_service"
    )
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="intyg-{document.pk}.pdf"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def hr_request(request):
    """HR staff ask for anyone's certificate; everyone else gets a 404."""
    # The page does not exist for those outside HR och lön.
    if not may_request_for_anyone(request.user):
        raise Http404
    form = HRRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = certificate_request_open(
                user=request.user,
                kind=form.cleaned_data["kind"],
                employee_id=form.cleaned_data["employee_id"],
                include_worked_time=form.cleaned_data["include_worked_time"],
            )
        except CertificateRequestRefused as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Request %(ref)s is received.") % {"ref": case.pk})
            return redirect("approvals:case", case.pk)
    return render(
        request,
        "anstallningsintyg/hr_request.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def _exception_for(user, request_id: int) -> ApprovalRequest:
    """The open exception if the user may settle it; otherwise 404, like a missing one."""
    approval = (
        ApprovalRequest.objects.select_related("case", "material")
        .defer("material__html", "material__pdf")
        .filter(pk=request_id, case__process=SLUG)
        .first()
    )
    if approval is None or not access.may_settle_exception(user=user, request=approval):
        raise Http404
    return approval


@login_required
@require_http_methods(["GET", "POST"])
def exception_settle(request, request_id: int):
    """Settle an exception: corrected in HR and issue, or close; the reason is required."""
    approval = _exception_for(request.user, request_id)
    case = approval.case
    form = SettleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.exception_settle(
                request_id=approval.pk,
                user=request.user,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
            )
        except services.ServiceError as exc:
            form.add_error(None, _(exc.message))
        else:
            messages.success(request, _("The exception is settled."))
            return redirect("approvals:case", case.pk)
    services.case_access_record(user=request.user, case=case, what="exception_settle")
    return render(
        request,
        "anstallningsintyg/settle.html",
        {
            "case": case,
            "approval": approval,
            "form": form,
            "panel": case_panel_context(case=case, material=approval.material),
        },
        status=400 if request.method == "POST" else 200,
    )


def verify(request, code: str):
    """Without login: issuer, date of issue and the document's hash — nothing else.

    A mistyped code and an unknown one get the same 404, so that the page tells nobody
    which codes are well-formed.
    """
    verification = selectors.verification_by_typed_code(code)
    if verification is None:
        return render(request, "anstallningsintyg/verify.html", {"verification": None}, status=404)
    return render(request, "anstallningsintyg/verify.html", {"verification": verification})


def verify_form(request):
    """A code typed into the form goes to its page."""
    code = "".join(request.GET.get("code", "").split())
    if code:
        return redirect(reverse("anstallningsintyg:verify", args=[code]))
    return render(request, "anstallningsintyg/verify.html", {"verification": None, "ask": True})
