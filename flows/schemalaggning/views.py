"""The manager's pages: ask for a proposal, edit the proposed roster, approve it, download
the published calendars. Every "who may" is approvals.access; forbidden is 404, like missing.
"""

from __future__ import annotations

import json
import time
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from approvals import access, rules, services
from approvals.models import ApprovalRequest, Case
from municipality.authentication import authentication_of

from .drafts import (
    DraftRefused,
    draft_edit,
    draft_for,
    draft_reset,
    roster_final,
    shift_times,
    shifts_sha256,
)
from .edits import EditError
from .forms import ApproveForm, EditForm, RequestForm
from .inputs import InputError, input_load, inputs_for
from .process import PROCESS
from .solver import roster_of

# A case of these statuses is still being worked on: asking again opens it, not a new one.
ACTIVE = (
    Case.Status.RECEIVED,
    Case.Status.PROCESSING,
    Case.Status.AWAITING_DECISION,
    Case.Status.AWAITING_PERSON,
)


def _requester_unit(user):
    """The unit whose proposals the user may ask for: a human of the process's own unit."""
    staff = access.staff_of(user)
    # Integration and robot accounts, and staff of other units, have no request page.
    if staff is None or not staff.is_human or staff.unit is None:
        return None
    return staff.unit if staff.unit.code == PROCESS.unit_code else None


@login_required
def roster_request(request):
    unit = _requester_unit(request.user)
    if unit is None:
        raise Http404
    inputs = inputs_for(unit.code)
    form = RequestForm(request.POST or None, inputs=inputs)
    if request.method == "POST" and form.is_valid():
        key = form.cleaned_data["roster_input"]
        try:
            chosen, _raw, data = input_load(unit.code, key)
        except InputError as exc:
            form.add_error("roster_input", exc.message)
        else:
            active = (
                Case.objects.filter(process=PROCESS.slug, data__input=key, status__in=ACTIVE)
                .order_by("-pk")
                .first()
            )
            if active is not None and access.may_view_case(user=request.user, case=active):
                messages.info(
                    request, "Det finns redan ett schemaförslag under arbete för underlaget."
                )
                return redirect("approvals:case", case_id=active.pk)
            payload = {"unit": unit.code, "input": chosen.key, "roster": data}
            number = Case.objects.filter(process=PROCESS.slug, data__input=key).count() + 1
            case, _ = services.case_open(
                spec=PROCESS,
                external_ref=f"{chosen.key}-{number}",
                raw_body=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                payload=payload,
                opened_by=request.user,
            )
            messages.success(
                request, "Roboten tar fram ett schemaförslag. Sidan visar det när det är klart."
            )
            return redirect("approvals:case", case_id=case.pk)
    cases = [
        c
        for c in Case.objects.filter(process=PROCESS.slug, unit=unit).order_by("-pk")[:20]
        if access.may_view_case(user=request.user, case=c)
    ]
    return render(
        request,
        "schemalaggning/request.html",
        {"form": form, "unit": unit, "cases": cases, "process": PROCESS},
        status=400 if form.errors else 200,
    )


def _workable(user, case_id: int) -> tuple[Case, ApprovalRequest]:
    """The case and its open decision request, if the user may work on it; 404 otherwise."""
    case = Case.objects.select_related("unit").filter(pk=case_id, process=PROCESS.slug).first()
    if case is None or not access.may_view_case(user=user, case=case):
        raise Http404
    active = (
        case.requests.filter(status=ApprovalRequest.Status.OPEN, kind=ApprovalRequest.Kind.DECISION)
        .select_related("material")
        .first()
    )
    if active is None or not access.may_work_on(user=user, request=active):
        raise Http404
    return case, active


def _back(case: Case):
    return redirect(reverse("approvals:case", args=[case.pk]) + "#roster-h")


def _edit_from(form: EditForm, roster: dict) -> dict:
    data = form.cleaned_data
    op = data["op"]
    if op in ("swap",):
        return {"op": op, "first": data["index"], "second": data["other"]}
    if op == "remove":
        return {"op": op, "index": data["index"]}
    if op == "add":
        start, end = shift_times(roster, data["day"], data["shift"])
        return {
            "op": op,
            "staff": data["staff"],
            "start": start,
            "end": end,
            "shift": data["shift"],
        }
    # move: to another person, another day or another shift type (or several of them)
    shifts = roster.get("shifts", [])
    if not 0 <= data["index"] < len(shifts):
        raise EditError("EDIT_NO_SUCH_SHIFT", f"Det finns inget pass nr {data['index']}.")
    edit = {"op": "move", "index": data["index"]}
    if data.get("staff"):
        edit["staff"] = data["staff"]
    if data.get("day") or data.get("shift"):
        current = shifts[data["index"]]
        day = data.get("day") or date.fromisoformat(str(current["start"])[:10])
        kind = data.get("shift") or current.get("shift")
        if not kind:
            raise EditError("EDIT_BAD_TIMES", "Välj passtyp för passet.")
        edit["start"], edit["end"] = shift_times(roster, day, kind)
        edit["shift"] = kind
    return edit


@login_required
@require_POST
def roster_edit(request, case_id: int):
    """Apply one edit, re-check the whole roster (server-side) and show the grid again."""
    case, active = _workable(request.user, case_id)
    if active.assigned_to_id not in (None, request.user.pk):
        messages.error(request, "Någon annan har tagit ärendet; bara den personen kan ändra.")
        return _back(case)
    form = EditForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{form.fields[k].label or k}: {' '.join(v)}" if k in form.fields
                           else " ".join(v) for k, v in form.errors.items())  # fmt: skip
        messages.error(request, f"Ändringen gjordes inte. {errors}")
        return _back(case)
    material = active.material
    version = form.cleaned_data["draft_version"]
    started = time.perf_counter()
    try:
        if form.cleaned_data["op"] == "reset":
            draft = draft_reset(material=material, user=request.user, expected_version=version)
        else:
            current = draft_for(material)
            roster = {**roster_of(material.proposal), "shifts": current.shifts}
            edit = _edit_from(form, roster)
            draft = draft_edit(
                material=material, user=request.user, edit=edit, expected_version=version
            )
    except (DraftRefused, EditError) as exc:
        messages.error(request, f"Ändringen gjordes inte: {exc.message}")
        return _back(case)
    elapsed = round((time.perf_counter() - started) * 1000)
    breaches = len(draft.verdict.get("breaches", []))
    uncovered = len(draft.verdict.get("uncovered", []))
    messages.success(
        request,
        f"Ändrat och kontrollerat på {elapsed} ms: {breaches} regelbrott, "
        f"{uncovered} ej bemannade pass.",
    )
    return _back(case)


@login_required
@require_POST
def roster_approve(request, case_id: int):
    """Fastställ the roster as edited: the edits and the final roster's hash are signed."""
    case, active = _workable(request.user, case_id)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Schemat fastställdes inte: formuläret var ofullständigt.")
        return _back(case)
    material = active.material
    draft = draft_for(material)
    if draft.version != form.cleaned_data["draft_version"]:
        messages.error(request, "Schemat ändrades efter att sidan visades; granska det igen.")
        return _back(case)
    verdict = draft.verdict
    problems = len(verdict.get("breaches", [])) + len(verdict.get("uncovered", []))
    if problems and not form.cleaned_data["accept_breaches"]:
        messages.error(
            request,
            "Schemat har regelbrott eller ej bemannade pass: bekräfta att du har sett dem.",
        )
        return _back(case)
    final = roster_final(material.proposal, draft.edits)
    digest = shifts_sha256(final.get("shifts", []))
    if digest != draft.shifts_sha256:
        # The stored draft must be exactly the proposal with its edits; never sign a cache.
        messages.error(request, "Utkastet stämmer inte med förslaget och ändringarna.")
        return _back(case)
    try:
        services.decision_sign(
            request_id=active.pk,
            user=request.user,
            outcome="approved",
            motivation=form.cleaned_data["motivation"] or "",
            shown_material_sha256=form.cleaned_data["material_sha256"],
            decided={
                "edits": draft.edits,
                "shifts_sha256": digest,
                "draft_version": draft.version,
                "breaches": len(verdict.get("breaches", [])),
                "uncovered": len(verdict.get("uncovered", [])),
            },
            authentication=authentication_of(request),
        )
    except services.GateRefused as exc:
        services.decision_sign_refusal_record(
            request_id=active.pk, user=request.user, code=exc.code
        )
        messages.error(request, gettext(rules.MESSAGES.get(exc.code, exc.code)))
        return _back(case)
    messages.success(
        request, "Schemat är fastställt. Roboten publicerar en kalenderfil per person."
    )
    return redirect("approvals:case", case_id=case.pk)


@login_required
def roster_calendar(request, case_id: int, staff_id: str):
    """One person's published calendar (text/calendar), for the manager to hand out."""
    from .models import RosterCalendar

    case = Case.objects.filter(pk=case_id, process=PROCESS.slug).first()
    if case is None or not access.may_view_case(user=request.user, case=case):
        raise Http404
    calendar = RosterCalendar.objects.filter(case=case, staff_id=staff_id).order_by("-pk").first()
    if calendar is None:
        raise Http404
    services.case_access_record(user=request.user, case=case, what="roster_ics")
    response = HttpResponse(bytes(calendar.ics), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="schema-{case.pk}-{staff_id}.ics"'
    return response
