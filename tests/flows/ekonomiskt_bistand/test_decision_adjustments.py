"""Changed lines at signing: the gate computes the amount and chooses the outcome from them.

The open request's proposal (first demo application with register data, March 2026):
riksnorm 5 220 + costs 7 115 (rent 6 450) − incomes 8 050 = 4 285 kr.

The rule: a change against the applicant (a cost lowered, an income raised) makes the
decision "partly_approved", even if another change raises the total; changes only in
the applicant's favour make it "approved". The amount is always the recomputed one.
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals import rules, services
from approvals.audit import Kind
from approvals.models import AuditEvent, Cosignature, Decision, PrefectCommand
from flows.ekonomiskt_bistand.process import DECISION_TYPE as DECISION_TYPE_BISTAND
from municipality.models import Delegation, SecondSignerRule, Staff
from tests.db_helpers import guards_off
from tests.gate_helpers import material_open, sign, verify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]

RENT_DOWN = {"code": "cost.rent", "decided": 5900, "reason": "Hyran överstiger skälig nivå."}
ELECTRICITY_UP = {"code": "cost.electricity", "decided": 400, "reason": "Faktura visar 400 kr."}
HOUSING_DOWN = {"code": "income.housing_allowance", "decided": 1000, "reason": "Nytt beslut."}


def _sign(request, user, **overrides):
    """Sign with this module's defaults: the changes go against the applicant, with a reason."""
    overrides = {"outcome": "partly_approved", "motivation": "Se ändrade poster.", **overrides}
    return sign(request, user, **overrides)


def _written():
    return (
        Decision.objects.count(),
        Cosignature.objects.count(),
        PrefectCommand.objects.count(),
        AuditEvent.objects.filter(kind__in=(Kind.DECISION_SIGNED, "decision.cosigned")).count(),
    )


def _refused(request, user, code, **kwargs):
    before = _written()
    with pytest.raises(services.GateRefused) as exc:
        _sign(request, user, **kwargs)
    assert exc.value.code == code
    assert _written() == before
    request.refresh_from_db()
    return exc.value


@pytest.fixture
def anna(org, open_request):
    user = org["users"]["anna"]
    material_open(user, open_request)
    return user


# --- accepted ---------------------------------------------------------------------------


def test_lowered_cost_is_a_partial_approval_with_the_recomputed_amount(open_request, anna):
    """Rent 6 450 → 5 900: the decision is for 4 285 − 550 = 3 735 kr, changes stored."""
    decision = _sign(open_request, anna, adjustments=[RENT_DOWN])
    assert (decision.outcome, decision.authority_amount) == ("partly_approved", 3735)
    assert decision.followed_proposal is False
    assert decision.adjustments == [
        {
            "code": "cost.rent",
            "label": "Hyra",
            "proposed": 6450,
            "decided": 5900,
            "reason": "Hyran överstiger skälig nivå.",
            "favours_applicant": False,
        }
    ]
    decision.refresh_from_db()
    assert decision.adjustments[0]["decided"] == 5900


def test_signed_event_carries_the_changes(open_request, anna):
    """The audit trail records each changed line next to the amounts."""
    decision = _sign(open_request, anna, adjustments=[RENT_DOWN])
    event = AuditEvent.objects.get(kind=Kind.DECISION_SIGNED)
    assert event.data["adjustments"] == decision.adjustments
    assert (event.data["amount"], event.data["proposed_amount"]) == (3735, 4285)
    assert event.data["followed_proposal"] is False


def test_the_computed_amount_may_also_be_given(open_request, anna):
    """Giving exactly the recomputed amount is the same decision."""
    decision = _sign(open_request, anna, amount=3735, adjustments=[RENT_DOWN])
    assert decision.authority_amount == 3735


def test_changes_only_in_the_applicants_favour_are_an_approval(open_request, anna):
    """Electricity 320 → 400: approved for 4 365 kr, no motivation needed, not as proposed."""
    decision = _sign(
        open_request, anna, outcome="approved", motivation="", adjustments=[ELECTRICITY_UP]
    )
    assert (decision.outcome, decision.authority_amount, decision.followed_proposal) == (
        "approved",
        4365,
        False,
    )


def test_mixed_changes_are_a_partial_approval_even_above_the_proposal(open_request, anna):
    """Rent −550 and housing allowance −850: 4 285 − 550 + 850 = 4 585 kr, still partly
    approved, because the rent decision goes against the applicant."""
    decision = _sign(open_request, anna, adjustments=[RENT_DOWN, HOUSING_DOWN])
    assert (decision.outcome, decision.authority_amount) == ("partly_approved", 4585)
    assert [c["favours_applicant"] for c in decision.adjustments] == [False, True]


def test_delegation_must_cover_the_recomputed_amount(open_request, org, anna):
    """Rent raised to 20 000 gives 4 285 + 13 550 = 17 835 kr, above the caseworker's 15 000;
    the team leader, without limit, can sign it."""
    rent_up = {"code": "cost.rent", "decided": 20000, "reason": "Akut boende."}
    _refused(
        open_request,
        anna,
        rules.DECISION_SIGNER_NOT_DELEGATED,
        outcome="approved",
        adjustments=[rent_up],
    )
    maria = org["users"]["maria"]
    material_open(maria, open_request)
    decision = _sign(open_request, maria, outcome="approved", adjustments=[rent_up])
    assert decision.authority_amount == 17835


# --- refused, nothing written ----------------------------------------------------------


def test_lowered_cost_cannot_be_an_approval(open_request, anna):
    """A lower amount as "approved" would send a letter without appeal instructions."""
    _refused(
        open_request,
        anna,
        rules.DECISION_ADJUSTMENT_OUTCOME_MISMATCH,
        outcome="approved",
        motivation="",
        adjustments=[RENT_DOWN],
    )


def test_favourable_change_cannot_be_a_partial_approval(open_request, anna):
    """Nothing goes against the applicant: it is an approval, not a partial one."""
    _refused(
        open_request, anna, rules.DECISION_ADJUSTMENT_OUTCOME_MISMATCH, adjustments=[ELECTRICITY_UP]
    )


@pytest.mark.parametrize("outcome", ["refused", "returned"])
def test_no_changed_lines_when_refusing_or_returning(open_request, anna, outcome):
    """Refusing or returning changes no lines."""
    _refused(
        open_request,
        anna,
        rules.DECISION_ADJUSTMENT_OUTCOME_MISMATCH,
        outcome=outcome,
        adjustments=[RENT_DOWN],
    )


def test_an_amount_other_than_the_computed_one_is_refused(open_request, anna):
    """With changed lines the amount is computed; 3 800 is not 3 735."""
    _refused(
        open_request,
        anna,
        rules.DECISION_ADJUSTMENT_AMOUNT_MISMATCH,
        amount=3800,
        adjustments=[RENT_DOWN],
    )


@pytest.mark.parametrize(
    "adjustments",
    [
        [{"code": "riksnorm.single_adult", "decided": 3000, "reason": "x"}],
        [{"code": "cost.unknown", "decided": 1, "reason": "x"}],
        [{**RENT_DOWN, "decided": -1}],
        [{**RENT_DOWN, "reason": " "}],
        [RENT_DOWN, {**RENT_DOWN, "decided": 5000}],
        [{**RENT_DOWN, "decided": 6450}],
        "cost.rent",
    ],
    ids=["riksnorm", "unknown", "negative", "no-reason", "duplicate", "unchanged", "not-a-list"],
)
def test_unusable_changes_are_refused(open_request, anna, adjustments):
    """The process's own refusal becomes the gate's DECISION_ADJUSTMENT_INVALID."""
    _refused(open_request, anna, rules.DECISION_ADJUSTMENT_INVALID, adjustments=adjustments)


def test_a_process_without_line_rules_takes_no_changes(open_request, anna, monkeypatch):
    """Without an adjuster for the process, changed lines are refused."""
    import dataclasses

    from approvals.registry import registry

    spec = registry["ekonomiskt-bistand"]
    monkeypatch.setitem(registry._processes, spec.slug, dataclasses.replace(spec, hooks=None))
    _refused(open_request, anna, rules.DECISION_ADJUSTMENT_INVALID, adjustments=[RENT_DOWN])


def test_the_gate_checks_before_changes_stay_first(open_request, org):
    """Changed lines do not jump the queue: unopened material is refused as before."""
    erik = org["users"]["erik"]
    _refused(open_request, erik, rules.DECISION_MATERIAL_NOT_OPENED, adjustments=[RENT_DOWN])


# --- second signature --------------------------------------------------------------------


@pytest.fixture
def awaiting_second(open_request, org, anna):
    SecondSignerRule.objects.create(
        unit=org["unit"],
        decision_type=DECISION_TYPE_BISTAND,
        valid_from=timezone.localdate() - timedelta(days=30),
    )
    decision = _sign(open_request, anna, adjustments=[RENT_DOWN])
    open_request.refresh_from_db()
    assert open_request.status == "awaiting_second"
    erik = org["users"]["erik"]
    material_open(erik, open_request)
    return decision, erik


def test_second_signer_confirms_the_same_changes(open_request, awaiting_second):
    """The same outcome, amount and changed lines: the decision is complete."""
    decision, erik = awaiting_second
    _sign(open_request, erik, amount=3735, adjustments=[RENT_DOWN])
    open_request.refresh_from_db()
    assert open_request.status == "decided"
    assert Decision.objects.get(pk=decision.pk).cosignature.signer == erik


@pytest.mark.parametrize(
    "adjustments",
    [None, [{**RENT_DOWN, "reason": "Annat skäl."}], [{**RENT_DOWN, "decided": 5800}]],
    ids=["without-changes", "other-reason", "other-amount"],
)
def test_second_signer_with_other_changes_is_refused(open_request, awaiting_second, adjustments):
    """Confirming a different set of changes is not a second signature."""
    _decision, erik = awaiting_second
    _refused(
        open_request,
        erik,
        rules.DECISION_COSIGNATURE_MISMATCH,
        amount=3735,
        adjustments=adjustments,
    )


# --- after resume --------------------------------------------------------------------------


def test_verification_accepts_a_decision_with_changes(open_request, anna):
    """The stored changes, applied again to the material, give the signed amount."""
    decision = _sign(open_request, anna, adjustments=[RENT_DOWN])
    assert verify(decision).outcome == "partly_approved"


def test_verification_refuses_changes_that_no_longer_give_the_amount(open_request, anna):
    """A decision row altered after signing (changes without the matching amount) is refused."""
    decision = _sign(open_request, anna, adjustments=[RENT_DOWN])
    with guards_off():  # a signed decision can be altered only with the triggers off
        Decision.objects.filter(pk=decision.pk).update(
            adjustments=[{**decision.adjustments[0], "decided": 5000}]
        )
    with pytest.raises(services.GateRefused) as exc:
        verify(decision)
    assert exc.value.code == rules.DECISION_ADJUSTMENT_AMOUNT_MISMATCH
    assert not Decision.objects.filter(verified_at__isnull=False).exists()


# --- database constraints ------------------------------------------------------------------


def _row(request, user, **changes):
    now = timezone.now()
    fields = {
        "request": request,
        "outcome": "partly_approved",
        "authority_amount": 3735,
        "motivation": "x",
        "signer": user,
        "signer_name": "Anna Lind",
        "signer_title": "Socialsekreterare",
        "delegation": Delegation.objects.filter(role=Staff.Role.CASEWORKER).first(),
        "signed_at": now,
        "material": request.material,
        "material_sha256": request.material.sha256,
        "material_opened_at": now - timedelta(minutes=3),
        "followed_proposal": False,
        "adjustments": [{"code": "cost.rent", "decided": 5900}],
    }
    fields.update(changes)
    return fields


@pytest.mark.parametrize(
    "changes",
    [
        {"outcome": "refused", "authority_amount": 0},
        {"outcome": "approved", "followed_proposal": True},
    ],
    ids=["changes-in-a-refusal", "changes-yet-as-proposed"],
)
def test_database_refuses_changes_that_make_no_sense(open_request, org, changes):
    """Changed lines only in a granting decision, and never 'as proposed'."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(**_row(open_request, org["users"]["anna"], **changes))
