"""What the case page's panel of the certificate robot shows (hook case_panel_context)."""

from __future__ import annotations

from approvals.models import ApprovalRequest

from .forms import SettleForm
from .issuing import verification_for_case
from .process import PROCESS
from .rules import KIND_ARBETSGIVARINTYG


def kind_label(kind: str) -> str:
    return "Arbetsgivarintyg" if kind == KIND_ARBETSGIVARINTYG else "Anställningsintyg"


def case_panel_context(*, case, material) -> dict:
    proposal = material.proposal if material is not None else {}
    open_exception = case.requests.filter(
        kind=ApprovalRequest.Kind.EXCEPTION, status=ApprovalRequest.Status.OPEN
    ).first()
    settlements = [
        r.settlement
        for r in case.requests.filter(kind=ApprovalRequest.Kind.EXCEPTION)
        .select_related("settlement__settled_by")
        .order_by("pk")
        if hasattr(r, "settlement")
    ]
    return {
        "kind_label": kind_label(case.payload.get("kind", "")),
        "employee": case.payload.get("employee", {}),
        "channel": case.payload.get("channel"),
        "findings": proposal.get("findings", []),
        "open_exception": open_exception,
        "settle_form": SettleForm() if open_exception is not None else None,
        "settlements": settlements,
        "action_labels": {o.code: o.label for o in PROCESS.default_decision_type.outcomes},
        "verification": verification_for_case(case),
    }
