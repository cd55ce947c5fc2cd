"""Returning a case for completion is a step only a delegate for the decision type may take."""

import pytest

from approvals import rules, services
from approvals.models import Decision, PrefectCommand
from municipality.models import Delegation, Staff
from tests.gate_helpers import decide, verify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]


def _return(request, user):
    return decide(request, user, outcome="returned", motivation="Hyreskontrakt saknas.")


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
    assert decision.delegation is not None and decision.authority_amount is None
    verified = verify(decision)
    assert verified.outcome == "returned"
