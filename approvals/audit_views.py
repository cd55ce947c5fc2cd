"""The auditor's pages: read only, and every page view is itself logged.

Reachable only with the approvals.view_audit_trail grant held by a human account
(through the "auditors" group or directly). The superuser flag grants nothing
here, integration and robot accounts never get in, and caseworkers are refused
with 403; anonymous visitors are sent to the login page.
"""

from functools import wraps

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from municipality.models import Unit

from . import access, audit_selectors, exports, services
from .audit import case_chain_break, event_payload
from .models import Case, Document, Material
from .registry import registry

SEARCH_LIMIT = 200
ACCESS_LOG_LIMIT = 500


def auditor_grant_held(user) -> bool:
    """Whether the user holds the audit-trail grant as a human employee."""
    return access.may_audit(user)


def auditor_only(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        # Anonymous: log in first. Logged in without the grant: refused outright.
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not auditor_grant_held(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


DATE_WIDGET = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class PeriodForm(forms.Form):
    signed_from = forms.DateField(label=_("From"), required=False, **DATE_WIDGET)
    signed_to = forms.DateField(label=_("To"), required=False, **DATE_WIDGET)


class DecisionSearchForm(PeriodForm):
    period = forms.RegexField(label=_("Month applied for"), regex=r"^\d{4}-\d{2}$", required=False)
    process = forms.ChoiceField(label=_("Process"), required=False)
    unit = forms.ChoiceField(label=_("Unit"), required=False)
    signer = forms.CharField(label=_("Decision-maker (user name)"), required=False, max_length=150)
    outcome = forms.ChoiceField(label=_("Outcome"), required=False)
    changed = forms.BooleanField(label=_("Changed from proposal"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["process"].choices = [("", _("All"))] + list(
            (p.slug, str(p.name)) for p in registry.all()
        )
        self.fields["unit"].choices = [("", _("All"))] + list(
            Unit.objects.values_list("code", "name")
        )
        outcomes = {}
        for spec in registry.all():
            for decision_type in spec.decision_types:
                for o in decision_type.outcomes:
                    outcomes.setdefault(o.code, o.label)
        self.fields["outcome"].choices = [("", _("All"))] + list(outcomes.items())


class AccessLogForm(PeriodForm):
    actor = forms.CharField(label=_("Reader (user name)"), required=False, max_length=150)
    case = forms.IntegerField(label=_("Case number"), required=False, min_value=1)
    unassigned_only = forms.BooleanField(
        label=_("Only reads without an open assignment"), required=False
    )


class StatisticsForm(PeriodForm):
    unit = forms.ChoiceField(label=_("Unit"), required=False)
    quick_seconds = forms.IntegerField(
        label=_("Quick signature threshold (seconds)"),
        required=False,
        min_value=1,
        max_value=3600,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", _("All"))] + list(
            Unit.objects.values_list("code", "name")
        )


def _filters(form: forms.Form) -> dict:
    return form.cleaned_data if form.is_valid() else {}


@auditor_only
def audit_search(request):
    form = DecisionSearchForm(request.GET)
    filters = _filters(form)
    services.audit_page_record(user=request.user, page="decision_search", filters=filters)
    decisions = audit_selectors.decision_search(filters=filters)[:SEARCH_LIMIT]
    return render(
        request,
        "approvals/audit_search.html",
        {"form": form, "decisions": decisions, "limit": SEARCH_LIMIT},
    )


@auditor_only
def audit_case(request, case_id: int):
    case = get_object_or_404(Case.objects.select_related("unit"), pk=case_id)
    services.case_access_record(user=request.user, case=case, what="audit_trail", purpose="audit")
    events = list(audit_selectors.case_timeline(case=case))
    broken = case_chain_break([{**event_payload(e), "hash": e.hash} for e in events])
    return render(
        request,
        "approvals/audit_case.html",
        {
            "case": case,
            "events": events,
            "chain_break": broken,
            "materials": case.materials.order_by("version"),
            "documents": case.documents.defer("pdf").order_by("pk"),
            "decisions": audit_selectors.case_decisions(case=case),
            "notes": case.notes.order_by("written_at", "pk"),
        },
    )


@auditor_only
def audit_material(request, material_id: int, fmt: str):
    if fmt not in ("html", "pdf"):
        raise Http404
    material = get_object_or_404(Material.objects.select_related("case"), pk=material_id)
    services.case_access_record(
        user=request.user,
        case=material.case,
        what=f"audit_material_{fmt}",
        material=material,
        purpose="audit",
    )
    name = f"beslutsunderlag-{material.case_id}-v{material.version}"
    if fmt == "pdf":
        response = HttpResponse(bytes(material.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    else:
        # Served as a download, never rendered inside the auditor's pages.
        response = HttpResponse(material.html, content_type="text/html; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.html"'
    return response


@auditor_only
def audit_document(request, document_id: int):
    letter = get_object_or_404(Document.objects.select_related("case"), pk=document_id)
    services.case_access_record(
        user=request.user, case=letter.case, what="audit_document_pdf", purpose="audit"
    )
    response = HttpResponse(bytes(letter.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{letter.kind}-{letter.case_id}-{letter.pk}.pdf"'
    )
    return response


@auditor_only
def audit_export_json(request, case_id: int):
    case = get_object_or_404(Case.objects.select_related("unit"), pk=case_id)
    services.case_access_record(
        user=request.user, case=case, what="audit_export_json", purpose="audit"
    )
    response = JsonResponse(
        exports.case_trail_export(case=case), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="case-{case.pk}-trail.json"'
    return response


@auditor_only
def audit_export_pdf(request, case_id: int):
    case = get_object_or_404(Case.objects.select_related("unit"), pk=case_id)
    services.case_access_record(
        user=request.user, case=case, what="audit_export_pdf", purpose="audit"
    )
    pdf = exports.case_trail_pdf(case=case, exported_by=services.actor_label_for(request.user))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="case-{case.pk}-trail.pdf"'
    return response


@auditor_only
def audit_access_log(request):
    form = AccessLogForm(request.GET)
    filters = _filters(form)
    services.audit_page_record(user=request.user, page="access_log", filters=filters)
    events = list(audit_selectors.access_log(filters=filters)[:ACCESS_LOG_LIMIT])
    rows = [(e, audit_selectors.access_is_flagged(e)) for e in events]
    return render(
        request,
        "approvals/audit_access_log.html",
        {"form": form, "rows": rows, "limit": ACCESS_LOG_LIMIT},
    )


@auditor_only
def audit_statistics(request):
    form = StatisticsForm(request.GET)
    filters = _filters(form)
    quick = filters.get("quick_seconds") or audit_selectors.QUICK_SIGN_SECONDS
    services.audit_page_record(user=request.user, page="review_statistics", filters=filters)
    return render(
        request,
        "approvals/audit_statistics.html",
        {
            "form": form,
            "quick_seconds": quick,
            "rows": audit_selectors.review_statistics(filters=filters, quick_seconds=quick),
        },
    )
