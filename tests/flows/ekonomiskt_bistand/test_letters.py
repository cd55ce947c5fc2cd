"""Decision letters carry what FL 31–33 §§ require for each outcome (read back from the PDF)."""

import pytest

from approvals.models import Document
from approvals.printing import pdf_text
from tests.conftest import kr, text_of
from tests.gate_helpers import carry_out, decide

pytestmark = pytest.mark.django_db


def _decide(request, user, **kwargs):
    """Sign, verify and carry out the decision; return it and its letter's text."""
    decision = carry_out(decide(request, user, **kwargs))
    return decision, text_of(Document.objects.get(decision=decision).pdf)


def _common(text, decision, request):
    assert "Beslut om ekonomiskt bistånd" in text
    assert decision.signer_name in text and decision.signer_title in text
    assert "Socialnämnden" in text and "SN 4.2.1" in text  # delegation named
    assert request.case.data["period"] in text
    assert "12 kap. socialtjänstlagen (2025:400)" in text
    assert decision.signed_at.strftime("%Y-%m-%d") in text


def test_approval_letter(open_request, org):
    """An approval names amount, period, decision-maker and rules, without appeal text."""
    decision, text = _decide(open_request, org["users"]["anna"], outcome="approved", motivation="")
    _common(text, decision, open_request)
    assert "Bifall" in text and kr(decision.authority_amount) in text
    assert "förvaltningsrätten" not in text


def test_partly_approved_letter_has_amount_reason_and_appeal(open_request, org):
    """A partial approval states the amount decided, the reason, and how to appeal."""
    amount = open_request.authority_amount - 500
    decision, text = _decide(
        open_request,
        org["users"]["anna"],
        outcome="partly_approved",
        amount=amount,
        motivation="Elkostnaden godtas upp till skälig nivå.",
    )
    _common(text, decision, open_request)
    assert "Delvis bifall" in text and kr(amount) in text
    assert "Elkostnaden godtas upp till skälig nivå." in text
    assert "förvaltningsrätten" in text and "tre veckor" in text
    assert not decision.followed_proposal


def test_refusal_letter_has_motivation_and_appeal(open_request, org):
    """A refusal gives the motivation and the appeal route through the committee."""
    decision, text = _decide(
        open_request,
        org["users"]["anna"],
        outcome="refused",
        motivation="Inkomsterna överstiger normen.",
    )
    _common(text, decision, open_request)
    assert "Avslag" in text and "Inkomsterna överstiger normen." in text
    assert "tre veckor" in text and "Socialnämnden" in text


def test_material_flags_register_deviation(open_request):
    """The material shows the housing-allowance deviation between application and register."""
    text = pdf_text(bytes(open_request.material.pdf))
    assert "Bostadsbidrag" in text and "−23" in text
    assert any(f["code"] == "INCOME_DIFFERS_FROM_REGISTER" for f in open_request.material.flags)


def test_register_without_answer_marks_gap_not_zero(org):
    """CSN not answering is retried, then marked as missing in the material, never as zero."""
    from tests.conftest import compile_case, demo_application, receive

    request = compile_case(receive(org, demo_application("etj-2026-000103")))
    codes = [f["code"] for f in request.material.flags]
    assert "REGISTER_NO_ANSWER" in codes
    assert "CSN" in pdf_text(bytes(request.material.pdf))
    assert "csn" in request.case.register_snapshots.get().missing_sources


def test_changed_line_is_listed_with_reason_and_appeal(open_request, org):
    """Rent 6 450 → 5 900: the letter shows the calculation as decided (3 735 kr), lists the
    change with the caseworker's reason, and says how to appeal."""
    reason = "Hyran överstiger vad som är skäligt för orten."
    decision, text = _decide(
        open_request,
        org["users"]["anna"],
        outcome="partly_approved",
        motivation="Hyran godtas upp till skälig nivå.",
        adjustments=[{"code": "cost.rent", "decided": 5900, "reason": reason}],
    )
    _common(text, decision, open_request)
    assert decision.authority_amount == 3735
    assert "Delvis bifall" in text and kr(3735) in text
    assert f"Hyra: {kr(6450)} → {kr(5900)} (ändrat av beslutsfattaren: {reason})" in text
    assert f"Hyra {kr(5900)}" in text and f"Hyra {kr(6450)}" not in text  # the table as decided
    assert f"Beräknat bistånd {kr(3735)}" in text
    assert "förvaltningsrätten" in text and "tre veckor" in text


def test_change_in_the_applicants_favour_is_an_approval_without_appeal(open_request, org):
    """Electricity 320 → 400 raises the amount to 4 365 kr: an approval, the change listed."""
    decision, text = _decide(
        open_request,
        org["users"]["anna"],
        outcome="approved",
        motivation="",
        adjustments=[{"code": "cost.electricity", "decided": 400, "reason": "Enligt faktura."}],
    )
    assert decision.authority_amount == 4365
    assert "Bifall" in text and kr(4365) in text
    assert f"Hushållsel: {kr(320)} → {kr(400)} (ändrat av beslutsfattaren: Enligt faktura.)" in text
    assert "förvaltningsrätten" not in text
