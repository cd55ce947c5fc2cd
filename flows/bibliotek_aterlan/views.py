"""The librarian's settlement page: the generic case page shows the form (case_panel.html),
this view records the settlement through services.exception_settle.

Who may: approvals.access.may_settle_exception (a librarian of the owning unit holding the
request's grant); anyone else gets 404, as for a request that does not exist.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from approvals import access, services
from approvals.models import ApprovalRequest

from .forms import SettlementForm
from .models import LoanRenewal
from .process import SLUG

SETTLED_MESSAGE = {
    "renewed_by_hand": "Undantaget är avgjort: lånet är omlånat för hand. Låntagaren får ett "
    "e-postmeddelande med den nya dagen.",
    "let_run_out": "Undantaget är avgjort: lånet får löpa ut.",
}
REFUSED_MESSAGE = {
    services.EXCEPTION_NOT_OPEN: "Undantaget är redan avgjort.",
    services.EXCEPTION_NO_ACCESS: "En kollega har tagit ärendet; bara hen kan avgöra det nu.",
}


def _exception_for(user, request_id: int) -> ApprovalRequest:
    request = get_object_or_404(
        ApprovalRequest.objects.select_related("case", "material").defer(
            "material__html", "material__pdf"
        ),
        pk=request_id,
        kind=ApprovalRequest.Kind.EXCEPTION,
        case__process=SLUG,
    )
    if not access.may_settle_exception(user=user, request=request):
        raise Http404
    return request


@login_required
@require_http_methods(["GET", "POST"])
def settle(request, request_id: int):
    approval = _exception_for(request.user, request_id)
    case = approval.case
    loan = get_object_or_404(LoanRenewal, exception_case=case)
    if request.method == "GET":
        # The form lives on the case page.
        return redirect("approvals:case", case_id=case.pk)
    form = SettlementForm(request.POST, due_date=loan.due_date)
    if not form.is_valid():
        services.case_access_record(user=request.user, case=case, what="case_page")
        return render(
            request,
            "bibliotek-aterlan/settle.html",
            {"case": case, "active": approval, "loan": loan, "form": form},
            status=400,
        )
    data = form.cleaned_data
    try:
        services.exception_settle(
            request_id=approval.pk,
            user=request.user,
            action=data["action"],
            reason=data["reason"],
            data=form.settlement_data(),
        )
    except services.ServiceError as exc:
        messages.error(request, REFUSED_MESSAGE.get(exc.code, exc.message))
        return redirect("approvals:case", case_id=case.pk)
    case.refresh_from_db(fields=["flow_run_id", "status"])
    if case.flow_run_id is None:
        # No robot run waits for this case (Prefect down, or the run not started yet):
        # the core completed the case; carry the settlement out here.
        from .steps import settlement_carry_out

        settlement_carry_out(request_id=approval.pk, flow_run_id=None)
    messages.success(request, SETTLED_MESSAGE[data["action"]])
    return redirect("approvals:case", case_id=case.pk)
