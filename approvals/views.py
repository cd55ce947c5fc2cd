"""Caseworker and auditor pages. Thin: every rule is in services and selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from . import rules, selectors, services
from .forms import DecisionForm
from .models import ApprovalRequest, Case, Letter, Material


def _case_for(user, case_id: int) -> Case:
    """The case if the user's grants cover it; otherwise 404, exactly like a missing case."""
    case = Case.objects.select_related("unit").filter(pk=case_id).first()
    if case is None or not services.holds_object_perm(user=user, codename="view_case", obj=case):
        raise Http404
    return case


@login_required
def inbox(request):
    requests = selectors.approval_list_for_user(user=request.user)
    return render(request, "approvals/inbox.html", {"requests": requests})


@login_required
def case_detail(request, case_id: int):
    case = _case_for(request.user, case_id)
    services.case_access_record(user=request.user, case=case, what="case_page")
    open_request = (
        case.requests.filter(status=ApprovalRequest.Status.OPEN).select_related("material").first()
    )
    material = case.materials.order_by("-version").first()
    form = None
    if open_request is not None:
        form = DecisionForm(
            initial={
                "material_sha256": open_request.material.sha256,
                "amount": open_request.proposed_amount,
            }
        )
    context = {
        "case": case,
        "material": material,
        "open_request": open_request,
        "form": form,
        "decisions": [
            r.decision
            for r in case.requests.filter(decision__isnull=False)
            .select_related("decision", "decision__letter")
            .order_by("pk")
        ],
        "events": selectors.case_events(case=case),
    }
    return render(request, "approvals/case_detail.html", context)


@login_required
@xframe_options_sameorigin
def material_html(request, material_id: int):
    material = get_object_or_404(Material.objects.select_related("case"), pk=material_id)
    _case_for(request.user, material.case_id)
    services.case_access_record(
        user=request.user, case=material.case, what="material", material=material
    )
    return HttpResponse(material.html)


@login_required
def material_pdf(request, material_id: int):
    material = get_object_or_404(Material.objects.select_related("case"), pk=material_id)
    _case_for(request.user, material.case_id)
    services.case_access_record(
        user=request.user, case=material.case, what="material_pdf", material=material
    )
    response = HttpResponse(bytes(material.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="beslutsunderlag-{material.case_id}-v{material.version}.pdf"'
    )
    return response


@login_required
def letter_pdf(request, letter_id: int):
    letter = get_object_or_404(Letter.objects.select_related("case"), pk=letter_id)
    if not request.user.has_perm("approvals.view_audit_trail"):
        _case_for(request.user, letter.case_id)
    services.case_access_record(user=request.user, case=letter.case, what="letter_pdf")
    response = HttpResponse(bytes(letter.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="beslut-{letter.case_id}.pdf"'
    return response


@login_required
@require_POST
def decision_submit(request, request_id: int):
    approval = get_object_or_404(ApprovalRequest, pk=request_id)
    case = _case_for(request.user, approval.case_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(
                    request, f"{form.fields[field].label if field in form.fields else ''}: {error}"
                )
        return redirect("approvals:case", case_id=case.pk)
    data = form.cleaned_data
    try:
        decision = services.decision_sign(
            request_id=approval.pk,
            user=request.user,
            outcome=data["outcome"],
            motivation=data["motivation"] or "",
            shown_material_sha256=data["material_sha256"],
            amount=data["amount"] if data["outcome"] == "partly_approved" else None,
        )
    except services.GateRefused as exc:
        services.decision_sign_refusal_record(
            request_id=approval.pk, user=request.user, code=exc.code
        )
        messages.error(request, _(rules.MESSAGES.get(exc.code, exc.code)))
        return redirect("approvals:case", case_id=case.pk)
    messages.success(
        request, _("Decision signed: %(outcome)s.") % {"outcome": decision.get_outcome_display()}
    )
    return redirect("approvals:case", case_id=case.pk)


@login_required
@permission_required("approvals.view_audit_trail", raise_exception=True)
def audit_case(request, case_id: int):
    case = get_object_or_404(Case, pk=case_id)
    services.case_access_record(user=request.user, case=case, what="audit_trail")
    return render(
        request,
        "approvals/audit_case.html",
        {
            "case": case,
            "events": selectors.case_events(case=case),
            "materials": case.materials.order_by("version"),
            "letters": case.letters.order_by("pk"),
        },
    )


@login_required
@permission_required("approvals.view_audit_trail", raise_exception=True)
def audit_search(request):
    decisions = selectors.decision_search(params=request.GET)
    return render(
        request, "approvals/audit_search.html", {"decisions": decisions[:200], "q": request.GET}
    )
