"""Returning a case for completion is a step only a delegate for the decision type may take."""

import pytest

from approvals import rules, services
from approvals.models import Decision, PrefectCommand
from municipality.models import Delegation, Staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]


def _return(request, user):
    services.case_access_record(
        user=user, case=request.case, what="material", material=request.material
    )
    return services.decision_sign(
        request_id=request.pk,
        user=user,
        outcome="returned",
        motivation="Hyreskontrakt saknas.",
        shown_material_sha256=request.material.sha256,
    )


def test_caseworker_without_own_delegation_cannot_return(open_request, org):
    """With the caseworkers' line gone, a caseworker cannot return the case, even though
    the team leader's line for the decision type still exists; nothing is written."""
    Delegation.objects.filter(role=Staff.Role.CASEWORKER).update(valid_to="2026-01-01")
    with pytest.raises(services.GateRefused) as exc:
        _return(open_request, org["users"]["anna"])
    assert exc.value.code == rules.DECISION_SIGNER_NOT_DELEGATED
    assert (
        not Decision.objects.exists() and not PrefectCommand.objects.filter(kind="resume").exists()
    )


def test_return_records_the_delegation_and_passes_the_recheck(open_request, org):
    """A delegate's return names the line it was made under, and the flow's re-check accepts it."""
    decision = _return(open_request, org["users"]["anna"])
    assert decision.delegation is not None and decision.amount is None
    verified = services.decision_verify_for_execution(
        request_id=open_request.pk,
        claimed_request_id=open_request.pk,
        decision_id=decision.pk,
        material_sha256=decision.material_sha256,
        flow_run_id="t",
        attempt_key="k",
    )
    assert verified.outcome == "returned"
