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

from municipality.authentication import authentication_of, reauthentication_offer
from municipality.password_policy import refusal_recorded_by_gate

from . import access, adjustments, rules, search, selectors, services
from .forms import (
    CosignatureDeclineForm,
    DecisionForm,
    HandOverForm,
    InboxFilterForm,
    NoteForm,
    ReassignForm,
    SearchForm,
)
from .models import ApprovalRequest, Case, CaseNote, Decision, Document, Material
from .registry import registry
from .services import assignment, handover, notes
from .services.signing import COSIGNATURE_REASON_MISSING, cosignature_decline, decision_type_of
from .templatetags.casework import kr

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
                p.slug: p.templates.inbox_summary
                for p in registry.all()
                if p.templates.inbox_summary
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
        flags=approval.material.flags,
        **kwargs,
    )


def _case_page(
    request,
    case: Case,
    *,
    form: DecisionForm | None = None,
    status: int = 200,
    gate_problem: dict | None = None,
    note_form: NoteForm | None = None,
    decline_form: CosignatureDeclineForm | None = None,
):
    """Render the one-screen case page and log the read (the page shows case data).

    After a refusal (form errors or the gate's), the bound form comes back with what
    was typed, and the error box takes the focus.
    """
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
        .select_related("cosignature", "cosignature_decline", "request")
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
    # A refused signature keeps the form, whoever holds the case now: nothing typed is lost.
    show_form = can_sign or (gate_problem is not None and form is not None and active is not None)
    open_claim = active is not None and active.status == ApprovalRequest.Status.OPEN
    process = selectors.process_for(case=case)
    may_note = access.may_write_note(user=user, case=case)
    staff = access.staff_of(user)
    panel_context = process.hook("case_panel_context") if process else None
    context = {
        "case": case,
        "process": process,
        "material": material,
        "panel": panel_context(case=case, material=material) if panel_context else {},
        "documents": case.documents.defer("pdf").order_by("pk"),
        "active": active,
        "overdue": active is not None and assignment.request_is_overdue(active),
        "form": form if show_form else None,
        "gate_problem": gate_problem,
        # Signing needs a recent login: renewed here when it is too old.
        "reauth": reauthentication_offer(request) if show_form else None,
        "decline_form": (
            (decline_form or CosignatureDeclineForm()) if can_sign and first_decision else None
        ),
        "notes": CaseNote.objects.filter(case=case).order_by("written_at", "pk"),
        "note_form": (note_form or NoteForm(case=case)) if may_note else None,
        "display_status": selectors.case_display_status(
            case=case, active=active, decisions=decisions
        ),
        "offer_next": not show_form
        and staff is not None
        and staff.is_human
        and staff.unit_id == case.unit_id,
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


# A marked account's attempt is refused and recorded by the gate, not redirected.
@refusal_recorded_by_gate
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
            # A second signer confirms the first signature's sum (carried in the form).
            amount=(
                data.get("amount")
                if approval.status == ApprovalRequest.Status.AWAITING_SECOND
                else form.typed_amount()
            ),
            adjustments=form.adjustments() or None,
            acknowledged_flags=form.acknowledged(),
            authentication=authentication_of(request),
        )
    except services.GateRefused as exc:
        services.decision_sign_refusal_record(
            request_id=approval.pk, user=request.user, code=exc.code
        )
        problem = _gate_problem(approval, request.user, exc.code, form)
        if exc.code == rules.DECISION_MATERIAL_STALE:
            # The page shows the current material again; what was typed stays, and the
            # signature will be checked against what is shown now.
            current = (
                case.requests.filter(status__in=ACTIVE_STATUSES).select_related("material").first()
            )
            if current is not None:
                data = request.POST.copy()
                data["material_sha256"] = current.material.sha256
                form = _decision_form(current, data)
                form.is_valid()
        # Shown again, not redirected: the form keeps what was typed.
        return _case_page(request, case, form=form, status=409, gate_problem=problem)
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


def _gate_problem(approval: ApprovalRequest, user, code: str, form: DecisionForm) -> dict:
    """What the gate refused, in words that name the limit or the colleague, and the next step."""
    problem = {"code": code, "message": _(rules.MESSAGES.get(code, code)), "colleagues": []}
    if code == rules.DECISION_SIGNER_NOT_DELEGATED:
        amount = form.typed_amount()
        if amount is None:
            amount = approval.authority_amount
        limit = handover.delegation_limit(user=user, request=approval)
        if limit is False:
            problem["message"] = _("You hold no delegation for this decision.")
        elif limit is not None:
            problem["message"] = _(
                "Your delegation covers up to %(limit)s. This decision is %(amount)s."
            ) % {"limit": kr(limit), "amount": kr(amount)}
        problem["amount"] = amount
        problem["colleagues"] = handover.colleagues_who_may_sign(
            request=approval, amount=amount, exclude=user
        )
        problem["next_step"] = _(
            "Send the case to a colleague whose delegation covers it: they get it in their "
            "cases and an e-mail."
        )
    elif code == rules.DECISION_SIGNER_NOT_ASSIGNEE:
        holder = (
            ApprovalRequest.objects.filter(pk=approval.pk)
            .values_list(
                "assigned_to__first_name", "assigned_to__last_name", "assigned_to__username"
            )
            .first()
        )
        name = " ".join(p for p in holder[:2] if p) or holder[2] if holder else ""
        problem["message"] = _("%(name)s has claimed this case; only they can sign it.") % {
            "name": name
        }
        problem["next_step"] = _(
            "Ask %(name)s to release it, or your team leader to reassign it. What you wrote "
            "is kept below."
        ) % {"name": name}
    elif code == rules.DECISION_MATERIAL_STALE:
        problem["next_step"] = _(
            "The current material is shown now. Read it; what you wrote is kept below, and "
            "you sign against the material shown."
        )
    elif code == rules.DECISION_AUTHENTICATION_STALE:
        problem["next_step"] = _("Confirm who you are below, then sign again.")
    elif code == rules.DECISION_COSIGNER_SAME_PERSON:
        problem["next_step"] = _("Another delegate of the unit gives the second signature.")
    return problem


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


# --- landing, search, notes, team view, next case, declines, hand-over (issue 9) ----------


@login_required
def landing(request):
    """Where a login lands: auditors on the audit pages, process owners on the catalogue,
    everyone else on the inbox."""
    if access.may_audit(request.user):
        return redirect("approvals:audit_search")
    if access.may_operate(request.user):
        return redirect("approvals:operations")
    return redirect("approvals:inbox")


def _search_page(request, *, audit: bool):
    form = SearchForm(request.GET or None)
    raw = form.data.get("q", "") if form.is_bound else ""
    query, hits = (
        search.case_search(user=request.user, raw=raw, audit=audit)
        if raw
        else (
            None,
            [],
        )
    )
    rows = [(case, search.applicant_name(case)) for case in hits]
    return render(
        request,
        "approvals/search.html",
        {
            "form": form,
            "query": query,
            "rows": rows,
            "audit": audit,
            "limit": search.SEARCH_LIMIT,
            "process_names": {p.slug: str(p.name) for p in registry.all()},
            "min_length": search.MIN_QUERY_LENGTH,
        },
    )


@login_required
def case_search(request):
    """Find a case of one's unit by name, personnummer or reference (every hit is logged)."""
    return _search_page(request, audit=False)


def audit_case_search(request):
    """The auditor's search: the same, over every case, logged with the audit purpose."""
    from .audit_views import auditor_only

    return auditor_only(lambda r: _search_page(r, audit=True))(request)


@login_required
@require_POST
def note_submit(request, case_id: int):
    case = _case_for(request.user, case_id)
    form = NoteForm(request.POST, case=case)
    if form.is_valid():
        try:
            notes.note_write(
                case_id=case.pk,
                user=request.user,
                text=form.cleaned_data["text"],
                refers_to_id=form.cleaned_data.get("refers_to"),
            )
        except notes.NoteRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The note is saved. It can no longer be changed."))
            return redirect(f"{case_url(case)}#notes-h")
    return _case_page(request, case, note_form=form, status=400)


def case_url(case: Case) -> str:
    from django.urls import reverse

    return reverse("approvals:case", args=[case.pk])


@login_required
def team(request):
    """The team leader's view: every open request of the unit, who holds it, each one's load."""
    user = request.user
    if not access.is_team_leader(user):
        raise Http404
    today = timezone.localdate()
    rows = selectors.team_requests(user=user)
    workers = []
    forms_by_request = {}
    for row in rows:
        if row.status != ApprovalRequest.Status.OPEN:
            continue
        colleagues = access.colleagues_for(request=row)
        for colleague in colleagues:
            if colleague not in workers:
                workers.append(colleague)
        forms_by_request[row.pk] = ReassignForm(
            colleagues=colleagues,
            initial={"assignee": row.assigned_to_id},
            auto_id=f"id_r{row.pk}_%s",
        )
    workers.sort(key=lambda u: (u.first_name, u.last_name, u.username))
    return render(
        request,
        "approvals/team.html",
        {
            "rows": [(r, forms_by_request.get(r.pk)) for r in rows],
            "loads": selectors.team_load(requests=rows, workers=workers, today=today),
            "today": today,
            "process_names": {p.slug: str(p.name) for p in registry.all()},
        },
    )


@login_required
def next_case(request):
    """ "Nästa ärende": the next case in the caseworker's order (each still decided on its own)."""
    try:
        after = int(request.GET.get("after", ""))
    except ValueError:
        after = None
    found = selectors.next_request(user=request.user, after_case_id=after)
    if found is None:
        messages.info(request, _("No more cases waiting: your cases and the unit queue are empty."))
        return redirect("approvals:inbox")
    return redirect("approvals:case", case_id=found.case_id)


@login_required
@require_POST
def cosign_decline(request, request_id: int):
    approval = get_object_or_404(ApprovalRequest, pk=request_id)
    case = _case_for(request.user, approval.case_id)
    form = CosignatureDeclineForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, decline_form=form, status=400)
    try:
        decline = cosignature_decline(
            request_id=approval.pk, user=request.user, reason=form.cleaned_data["reason"]
        )
    except services.GateRefused as exc:
        message = (
            _("Write why you do not co-sign.")
            if exc.code == COSIGNATURE_REASON_MISSING
            else _(rules.MESSAGES.get(exc.code, exc.code))
        )
        form.add_error("reason", message)
        return _case_page(request, case, decline_form=form, status=409)
    messages.success(
        request,
        _("You declined to co-sign. The case is back with %(name)s, with your reason.")
        % {"name": decline.decision.signer_name},
    )
    return redirect("approvals:case", case_id=case.pk)


@login_required
@require_POST
def hand_over(request, request_id: int):
    """One click from a delegation refusal: the case goes to a colleague who may sign it."""
    approval = get_object_or_404(ApprovalRequest, pk=request_id)
    case = _case_for(request.user, approval.case_id)
    form = HandOverForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a colleague from the list."))
        return redirect("approvals:case", case_id=case.pk)
    to = access.get_user_model().objects.filter(pk=form.cleaned_data["to"]).first()
    try:
        handover.request_hand_over(
            request_id=approval.pk, user=request.user, to=to, amount=form.cleaned_data["amount"]
        )
    except handover.HandoverRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The case is sent to %(name)s, who has been told by e-mail.")
            % {"name": to.get_full_name() or to.get_username()},
        )
    return redirect("approvals:case", case_id=case.pk)
