"""Caseworker pages: inbox, case page, decision, claims.

Thin: every rule is in approvals.services, every "who may" in approvals.access; what a
process shows of its own comes from its declaration (approvals.registry).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from . import access, adjustments, rules, selectors, services
from .forms import DecisionForm, InboxFilterForm, ReassignForm
from .models import ApprovalRequest, Case, Decision, Document, Material
from .registry import registry
from .services import assignment
from .services.signing import decision_type_of

# Requests a caseworker can still act on from the case page.
ACTIVE_STATUSES = (ApprovalRequest.Status.OPEN, ApprovalRequest.Status.AWAITING_SECOND)


def _case_for(user, case_id: int) -> Case:
    """The case if the user's grants cover it; otherwise 404, exactly like a missing case."""
    case = Case.objects.select_related("unit").filter(pk=case_id).first()
    if case is None or not access.may_view_case(user=user, case=case):
        raise Http404
    return case


@login_required
def inbox(request):
    user = request.user
    today = timezone.localdate()
    processes = selectors.inbox_processes(user=user)
    form = InboxFilterForm(request.GET or None, processes=processes)
    filters = form.filters()
    counts = selectors.inbox_counts(user=user, today=today)
    tab = request.GET.get("tab")
    if tab not in selectors.INBOX_TABS:
        tab = selectors.TAB_MINE if counts["mine"] else selectors.TAB_UNASSIGNED
    page = selectors.inbox_page(
        user=user,
        tab=tab,
        filters=filters,
        number=request.GET.get("page"),
        counts=counts,
        today=today,
    )
    return render(
        request,
        "approvals/inbox.html",
        {
            "tab": tab,
            "counts": counts,
            "page": page,
            "form": form,
            "filters": filters,
            "process_names": dict(processes),
            "summary_templates": {
                p.slug: p.templates.inbox_summary for p in registry.all() if p.templates.inbox_summary
            },
            "today": today,
        },
    )


def _decision_form(approval: ApprovalRequest, *args, **kwargs) -> DecisionForm:
    """The decision form for a request: the declared outcomes, the lines the signer may change."""
    return DecisionForm(
        *args,
        decision_type=decision_type_of(approval),
        lines=adjustments.adjustable_lines(
            process=approval.case.process, proposal=approval.material.proposal
        ),
        **kwargs,
    )


def _case_page(request, case: Case, *, form: DecisionForm | None = None, status: int = 200):
    """Render the one-screen case page and log the read (the page shows case data)."""
    user = request.user
    services.case_access_record(user=user, case=case, what="case_page")
    active = (
        case.requests.filter(status__in=ACTIVE_STATUSES)
        .select_related("material", "assigned_to")
        .defer("material__html", "material__pdf")
        .first()
    )
    material = case.materials.defer("html", "pdf").order_by("-version").first()
    decisions = list(
        Decision.objects.filter(request__case=case)
        .select_related("cosignature")
        .prefetch_related(Prefetch("documents", Document.objects.defer("pdf")))
        .order_by("signed_at")
    )
    may_work = active is not None and access.may_work_on(user=user, request=active)
    leader = active is not None and access.is_team_leader_of(user=user, request=active)
    first_decision = None
    can_sign = False
    if active is not None and may_work and active.kind == ApprovalRequest.Kind.DECISION:
        if active.status == ApprovalRequest.Status.AWAITING_SECOND:
            first_decision = next((d for d in decisions if d.request_id == active.pk), None)
            can_sign = first_decision is not None and user.pk not in (
                first_decision.signer_id,
                first_decision.on_behalf_of_id,
            )
        else:
            can_sign = active.assigned_to_id in (None, user.pk)
    if can_sign and form is None:
        # The amount starts empty: it is typed only for another amount, and left empty
        # when single lines are changed (the gate computes it from them).
        initial = {"material_sha256": active.material.sha256}
        if first_decision is not None:
            initial.update(
                outcome=first_decision.outcome,
                amount=first_decision.authority_amount,
                motivation=first_decision.motivation,
            )
        form = _decision_form(active, initial=initial)
        if first_decision is not None:
            form.initial.update(form.line_initial(first_decision.adjustments))
    open_claim = active is not None and active.status == ApprovalRequest.Status.OPEN
    process = selectors.process_for(case=case)
    panel_context = process.hook("case_panel_context") if process else None
    context = {
        "case": case,
        "process": process,
        "material": material,
        "panel": panel_context(case=case, material=material) if panel_context else {},
        "documents": case.documents.defer("pdf").order_by("pk"),
        "active": active,
        "overdue": active is not None and assignment.request_is_overdue(active),
        "form": form if can_sign else None,
        "first_decision": first_decision,
        "can_claim": open_claim and may_work and active.assigned_to_id is None,
        "can_release": open_claim
        and active.assigned_to_id is not None
        and (leader or (may_work and active.assigned_to_id == user.pk)),
        "reassign_form": (
            ReassignForm(
                colleagues=access.colleagues_for(request=active),
                initial={"assignee": active.assigned_to_id},
            )
            if open_claim and leader
            else None
        ),
        "decisions": decisions,
        "supplements": case.supplements.order_by("received_at", "pk"),
        "events": selectors.case_history(case=case),
    }
    return render(request, "approvals/case_detail.html", context, status=status)


@login_required
def case_detail(request, case_id: int):
    return _case_page(request, _case_for(request.user, case_id))


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
def document_pdf(request, document_id: int):
    document = get_object_or_404(Document.objects.select_related("case"), pk=document_id)
    # Auditors download documents from their own pages (approvals.audit_views).
    _case_for(request.user, document.case_id)
    services.case_access_record(user=request.user, case=document.case, what="document_pdf")
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="{document.kind}-{document.case_id}-{document.pk}.pdf"'
    )
    return response


@login_required
@require_POST
def decision_submit(request, request_id: int):
    approval = get_object_or_404(
        ApprovalRequest.objects.select_related("case", "material").defer(
            "material__html", "material__pdf"
        ),
        pk=request_id,
    )
    case = _case_for(request.user, approval.case_id)
    # Only a decision request has a decision form; an exception is settled elsewhere.
    if approval.kind != ApprovalRequest.Kind.DECISION:
        raise Http404
    form = _decision_form(approval, request.POST)
    if not form.is_valid():
        # Shown again with each error next to its field (and summarised at the top).
        return _case_page(request, case, form=form, status=400)
    data = form.cleaned_data
    try:
        decision = services.decision_sign(
            request_id=approval.pk,
            user=request.user,
            outcome=data["outcome"],
            motivation=data["motivation"] or "",
            shown_material_sha256=data["material_sha256"],
            amount=form.typed_amount(),
            adjustments=form.adjustments() or None,
        )
    except services.GateRefused as exc:
        services.decision_sign_refusal_record(
            request_id=approval.pk, user=request.user, code=exc.code
        )
        messages.error(request, _(rules.MESSAGES.get(exc.code, exc.code)))
        return redirect("approvals:case", case_id=case.pk)
    decision.request.refresh_from_db(fields=["status"])
    if decision.request.status == ApprovalRequest.Status.AWAITING_SECOND:
        messages.success(
            request, _("Your signature is recorded. The decision now needs a second signature.")
        )
    else:
        messages.success(
            request, _("Decision signed. The robot carries it out and writes the letter.")
        )
    return redirect("approvals:case", case_id=case.pk)


def _back(request, case: Case):
    """Where a claim button returns to: the page it was pressed on, if it is ours."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("approvals:case", case_id=case.pk)


def _inbox_action(request, request_id: int, action, success: str):
    approval = get_object_or_404(ApprovalRequest, pk=request_id)
    # Another unit's request is "not found", never "forbidden".
    case = _case_for(request.user, approval.case_id)
    try:
        action(approval)
    except assignment.InboxError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return _back(request, case)


@login_required
@require_POST
def request_claim(request, request_id: int | None = None):
    """Claim one request; from the inbox's queue the request comes as the pressed button's value."""
    if request_id is None:
        try:
            request_id = int(request.POST.get("request", ""))
        except ValueError:
            raise Http404 from None
    return _inbox_action(
        request,
        request_id,
        lambda a: assignment.request_claim(request_id=a.pk, user=request.user),
        _("The case is yours. Nobody else can sign it until you release it."),
    )


@login_required
@require_POST
def request_unclaim(request, request_id: int):
    return _inbox_action(
        request,
        request_id,
        lambda a: assignment.request_unclaim(request_id=a.pk, user=request.user),
        _("The case is back in the unit's queue."),
    )


@login_required
@require_POST
def request_reassign(request, request_id: int):
    approval = get_object_or_404(ApprovalRequest, pk=request_id)
    case = _case_for(request.user, approval.case_id)
    form = ReassignForm(request.POST, colleagues=access.colleagues_for(request=approval))
    if not form.is_valid():
        messages.error(request, _("Choose a colleague from the list."))
        return _back(request, case)
    return _inbox_action(
        request,
        request_id,
        lambda a: assignment.request_reassign(
            request_id=a.pk, user=request.user, assignee=form.assignee_user()
        ),
        _("The case was reassigned."),
    )
