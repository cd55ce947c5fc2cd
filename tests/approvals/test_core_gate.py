"""The legal gate, with the test-only process: every way around the signature fails.

One test per rule of approvals.services.decision_sign (and the second signature it
records on a request waiting for one), the database constraints behind it, the
re-check after resume (decision_verify_for_execution), and two signers at once. The
cases are the test process's (tests/core_process: proposal 4 000, caseworkers' limit
10 000), so a rule change in a real robot cannot break these; the same rules driven by
bistånd's robot are in tests/flows/ekonomiskt_bistand/test_gate.py.
"""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from approvals import rules, services
from approvals.models import (
    ApprovalRequest,
    AuditEvent,
    CaseParty,
    Cosignature,
    Decision,
    Material,
    PrefectCommand,
)
from municipality import services as delegation_services
from municipality.models import Delegation, SecondSignerRule, Staff, Substitution, Unit
from tests.core_process.process import DECISION_TYPE
from tests.db_helpers import guards_off, raw_sql, refused_by_database
from tests.gate_helpers import login_fresh, material_open, sign

from .core_helpers import core_compile, core_open

# The gate never reads the PDF bytes: skip WeasyPrint.
pytestmark = pytest.mark.usefixtures("fast_pdf")

SIGN_EVENTS = ("decision.signed", "decision.cosigned")
# Decided before any fixture runs: a skipped transactional test must not flush SQLite,
# whose append-only triggers refuse the DELETE that flushing uses there.
postgresql_only = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="row locks and TRUNCATE are PostgreSQL features",
)


@pytest.fixture
def large_request(core_org):
    """A request for 20 000: above a caseworker's 10 000, within the team leader's line."""
    return core_compile(core_open(core_org, ref="t-large", amount=20_000), amount=20_000)


def _written():
    return (
        Decision.objects.count(),
        Cosignature.objects.count(),
        PrefectCommand.objects.count(),
        AuditEvent.objects.filter(kind__in=SIGN_EVENTS).count(),
    )


def _refused(request, user, code, **kwargs):
    """Signing is refused with `code`, and no decision, signature, command or event appears."""
    before, status = _written(), ApprovalRequest.objects.get(pk=request.pk).status
    with pytest.raises(services.GateRefused) as exc:
        sign(request, user, **kwargs)
    assert exc.value.code == code
    assert _written() == before
    request.refresh_from_db()
    assert request.status == status


def _today():
    return timezone.localdate()


def _human(django_user_model, username, *, unit=None, role=Staff.Role.CASEWORKER, **fields):
    user = django_user_model.objects.create_user(username, first_name=username.title(), **fields)
    Staff.objects.create(user=user, unit=unit, kind=Staff.Kind.HUMAN, role=role)
    return user


def _substitution(core_org, *, absent, substitute, **fields):
    fields.setdefault("valid_from", _today() - timedelta(days=1))
    fields.setdefault("valid_to", _today() + timedelta(days=7))
    return Substitution.objects.create(
        unit=core_org["unit"], absent=absent, substitute=substitute, **fields
    )


def _second_signer_rule(core_org, **fields):
    fields.setdefault("valid_from", _today() - timedelta(days=30))
    return SecondSignerRule.objects.create(
        unit=core_org["unit"], decision_type=DECISION_TYPE, **fields
    )


def _caseworker_line(core_org):
    return Delegation.objects.get(unit=core_org["unit"], role=Staff.Role.CASEWORKER)


# --- the first signature --------------------------------------------------------------


@pytest.mark.django_db
def test_caseworker_with_delegation_signs_after_opening_material(core_request, crew, core_org):
    """A delegated caseworker who opened the material signs; the resume is queued with ids only."""
    kim = crew["kim"]
    material_open(kim, core_request)
    decision = sign(core_request, kim)
    assert decision.signer == kim
    assert decision.material_sha256 == core_request.material.sha256
    assert decision.authority_amount == core_request.authority_amount
    assert decision.delegation == _caseworker_line(core_org)
    assert decision.on_behalf_of is None and not decision.cosignature_required
    command = PrefectCommand.objects.get(kind="resume")
    assert set(command.payload["run_input"]) == {"request_id", "decision_id", "material_sha256"}
    assert AuditEvent.objects.filter(kind="decision.signed", case=core_request.case).count() == 1


@pytest.mark.django_db
def test_integration_account_cannot_sign(core_request, crew, core_org):
    """An integration account is refused even with a permission grant."""
    core_system = crew["core-system"]
    _refused(core_request, core_system, rules.DECISION_SIGNER_NOT_HUMAN)


@pytest.mark.django_db
def test_robot_account_cannot_sign(core_request, crew, core_org, django_user_model):
    """A robot account in the unit's group, with a named delegation line, is still refused."""
    robot = django_user_model.objects.create_user("robot-bistand")
    Staff.objects.create(
        user=robot, unit=core_org["unit"], kind=Staff.Kind.ROBOT, role=Staff.Role.SYSTEM
    )
    robot.groups.add(*crew["kim"].groups.all())
    Delegation.objects.create(
        unit=core_org["unit"], decision_type=DECISION_TYPE, user=robot, valid_from=_today()
    )
    material_open(robot, core_request)
    _refused(core_request, robot, rules.DECISION_SIGNER_NOT_HUMAN)


@pytest.mark.django_db
def test_inactive_account_cannot_sign(core_request, crew, core_org):
    """A deactivated account is refused, even after it opened the material."""
    kim = crew["kim"]
    material_open(kim, core_request)
    kim.is_active = False
    kim.save()
    _refused(core_request, kim, rules.DECISION_SIGNER_INACTIVE)


@pytest.mark.django_db
def test_signing_without_opening_material_is_refused(core_request, crew, core_org):
    """A signature without a recorded view of the material is refused."""
    _refused(core_request, crew["kim"], rules.DECISION_MATERIAL_NOT_OPENED)


@pytest.mark.django_db
def test_a_colleague_opening_the_material_does_not_count(core_request, crew, core_org):
    """Only the signer's own view of the material counts as having opened it."""
    material_open(crew["kai"], core_request)
    _refused(core_request, crew["kim"], rules.DECISION_MATERIAL_NOT_OPENED)


@pytest.mark.django_db
def test_stale_material_hash_is_refused(core_request, crew, core_org):
    """A hash other than the current material's is refused as stale."""
    kim = crew["kim"]
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_MATERIAL_STALE, shown_material_sha256="0" * 64)


@pytest.mark.django_db
def test_newer_material_version_makes_the_shown_one_stale(core_request, crew, core_org):
    """When a newer material version exists, signing on the one shown is refused."""
    kim = crew["kim"]
    material_open(kim, core_request)
    old = core_request.material
    Material.objects.create(
        case=core_request.case,
        version=old.version + 1,
        html=old.html + "<p>v2</p>",
        sha256="b" * 64,
        pdf=b"",
        pdf_sha256="c" * 64,
        proposal=old.proposal,
        ruleset_version=old.ruleset_version,
        authority_amount=old.authority_amount,
        compiled_by="test",
    )
    _refused(core_request, kim, rules.DECISION_MATERIAL_STALE)


@pytest.mark.django_db
def test_superuser_without_delegation_cannot_sign(core_request, crew, core_org, django_user_model):
    """A superuser flag grants nothing: no unit grant, no delegation, no signature."""
    boss = django_user_model.objects.create_superuser("boss", password="x")
    Staff.objects.create(user=boss, kind=Staff.Kind.HUMAN, role=Staff.Role.CASEWORKER)
    material_open(boss, core_request)
    _refused(core_request, boss, rules.DECISION_SIGNER_NO_ACCESS)


@pytest.mark.django_db
def test_superuser_in_the_unit_without_a_delegation_line_cannot_sign(
    core_request, crew, core_org, django_user_model
):
    """A superuser with the unit's grants but a role no delegation line covers is refused."""
    boss = django_user_model.objects.create_superuser("boss", password="x")
    Staff.objects.create(
        user=boss, unit=core_org["unit"], kind=Staff.Kind.HUMAN, role=Staff.Role.UNIT_ADMIN
    )
    boss.groups.add(*crew["kim"].groups.all())
    material_open(boss, core_request)
    _refused(core_request, boss, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_auditor_cannot_sign(core_request, crew, core_org):
    """The auditor reads every trail but holds no grant on the request."""
    greta = crew["greta"]
    material_open(greta, core_request)
    _refused(core_request, greta, rules.DECISION_SIGNER_NO_ACCESS)


@pytest.mark.django_db
def test_unit_administrator_cannot_sign(core_request, crew, core_org):
    """Keeping the delegation order gives no power to decide."""
    uno = crew["uno"]
    material_open(uno, core_request)
    _refused(core_request, uno, rules.DECISION_SIGNER_NO_ACCESS)


@pytest.mark.django_db
def test_amount_above_the_delegation_limit_is_refused(large_request, crew, core_org):
    """A caseworker's line ends at 10 000 kr; 20 000 needs the team leader."""
    kim, lo = crew["kim"], crew["lo"]
    material_open(kim, large_request)
    _refused(
        large_request,
        kim,
        rules.DECISION_SIGNER_NOT_DELEGATED,
    )
    material_open(lo, large_request)
    decision = sign(large_request, lo)
    assert decision.delegation.role == Staff.Role.TEAM_LEADER


@pytest.mark.django_db
def test_expired_delegation_is_refused(core_request, crew, core_org):
    """A line that ended before the signing date covers nothing."""
    line = _caseworker_line(core_org)
    line.valid_from = _today() - timedelta(days=60)
    line.valid_to = _today() - timedelta(days=1)
    line.save()
    kim = crew["kim"]
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_delegation_not_yet_in_force_is_refused(core_request, crew, core_org):
    """A line that starts after the signing date covers nothing."""
    line = _caseworker_line(core_org)
    line.valid_from = _today() + timedelta(days=1)
    line.save()
    kim = crew["kim"]
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_deleted_delegation_line_is_refused(core_request, crew, core_org):
    """A line the unit administrator deleted backs nothing, though the row is kept."""
    delegation_services.delegation_order_delete(
        line=_caseworker_line(core_org), admin_user=crew["uno"]
    )
    kim = crew["kim"]
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_delegation_in_another_unit_does_not_count(core_request, crew, core_org):
    """A line for the same decision type in another unit does not cover this unit's cases."""
    other = Unit.objects.create(code="ovr", name="Kimn enhet", committee="Socialnämnden")
    line = _caseworker_line(core_org)
    line.unit = other
    line.save()
    kim = crew["kim"]
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_delegation_for_another_decision_type_does_not_count(core_request, crew, core_org):
    """A line for another decision type does not cover this one."""
    line = _caseworker_line(core_org)
    line.decision_type = "other-process.beslut"
    line.save()
    kim = crew["kim"]
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_named_person_line_covers_only_that_person(core_request, crew, core_org):
    """With the role line gone, a line naming Kai lets Kai sign and not Kim."""
    _caseworker_line(core_org).delete()
    kai, kim = crew["kai"], crew["kim"]
    named = Delegation.objects.create(
        unit=core_org["unit"],
        decision_type=DECISION_TYPE,
        user=kai,
        max_amount=10000,
        valid_from=_today(),
    )
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_SIGNER_NOT_DELEGATED)
    material_open(kai, core_request)
    assert sign(core_request, kai).delegation == named


@pytest.mark.django_db
def test_person_who_prepared_the_material_cannot_sign(core_request, crew, core_org):
    """Separation of duties: whoever prepared or changed the material does not decide on it."""
    kim = crew["kim"]
    # Material is append-only: the preparer is set as only the table owner could now.
    with guards_off():
        Material.objects.filter(pk=core_request.material_id).update(prepared_by=kim)
    core_request.refresh_from_db()
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_SIGNER_PREPARED_MATERIAL)


@pytest.mark.django_db
def test_applicant_cannot_decide_own_case(core_request, crew, core_org):
    """Conflict of interest: a signer whose personnummer is the applicant's is refused."""
    kim = crew["kim"]
    Staff.objects.filter(user=kim).update(personnummer=core_request.case.applicant_personnummer)
    kim.refresh_from_db()
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_SIGNER_CONFLICT_OF_INTEREST)


@pytest.mark.django_db
def test_household_member_cannot_decide_the_case(core_request, crew, core_org):
    """Conflict of interest: a member of the applicant's household is refused too."""
    kim = crew["kim"]
    case = core_request.case
    CaseParty.objects.create(case=case, personnummer="198507099805", role="other_adult")
    Staff.objects.filter(user=kim).update(personnummer="198507099805")
    kim.refresh_from_db()
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_SIGNER_CONFLICT_OF_INTEREST)


@pytest.mark.django_db
def test_case_claimed_by_a_colleague_is_refused(core_request, crew, core_org):
    """A request assigned to Kai cannot be signed by Kim."""
    ApprovalRequest.objects.filter(pk=core_request.pk).update(assigned_to=crew["kai"])
    kim = crew["kim"]
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_SIGNER_NOT_ASSIGNEE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("outcome", "motivation", "amount", "code"),
    [
        ("refused", "  ", None, rules.DECISION_MOTIVATION_MISSING),
        ("returned", "", None, rules.DECISION_MOTIVATION_MISSING),
        ("approved", "", -5, rules.DECISION_AMOUNT_INVALID),
        ("granted", "", None, rules.DECISION_OUTCOME_INVALID),
    ],
)
def test_incomplete_outcome_is_refused(
    core_request, crew, core_org, outcome, motivation, amount, code
):
    """An outcome against the proposal needs a motivation; amounts are whole kronor ≥ 0."""
    kim = crew["kim"]
    material_open(kim, core_request)
    _refused(core_request, kim, code, outcome=outcome, motivation=motivation, amount=amount)


@pytest.mark.django_db
def test_superseded_request_cannot_be_signed(core_request, crew, core_org):
    """A request replaced by a newer one is no longer open."""
    ApprovalRequest.objects.filter(pk=core_request.pk).update(status="superseded")
    kim = crew["kim"]
    material_open(kim, core_request)
    _refused(core_request, kim, rules.DECISION_REQUEST_NOT_OPEN)


@pytest.mark.django_db
def test_double_submit_makes_one_decision(core_request, crew, core_org):
    """Signing an already decided request is refused; exactly one decision exists."""
    kim = crew["kim"]
    material_open(kim, core_request)
    sign(core_request, kim)
    _refused(core_request, kim, rules.DECISION_REQUEST_NOT_OPEN)
    assert Decision.objects.filter(request=core_request).count() == 1


@pytest.mark.django_db
def test_signed_event_carries_review_evidence(core_request, crew, core_org):
    """The decision.signed event records when the material was opened and how long it took."""
    kim = crew["kim"]
    material_open(kim, core_request)
    decision = sign(core_request, kim, outcome="refused", motivation="Rent cap.")
    event = AuditEvent.objects.get(kind="decision.signed")
    assert event.data["followed_proposal"] is False
    assert decision.followed_proposal is False
    assert event.data["motivation"] == "Rent cap."
    assert event.data["proposed_amount"] == core_request.authority_amount
    assert event.data["seconds_from_open_to_sign"] >= 0
    assert event.data["material_opened_at"] == decision.material_opened_at.isoformat()


# --- substitutes (ersättare) -----------------------------------------------------------


@pytest.mark.django_db
def test_substitute_signs_on_behalf_of_the_absent_delegate(large_request, crew, core_org):
    """Kai, substitute for the absent team leader, decides above his own limit on her behalf."""
    kai, lo = crew["kai"], crew["lo"]
    substitution = _substitution(core_org, absent=lo, substitute=kai)
    material_open(kai, large_request)
    decision = sign(large_request, kai)
    assert decision.signer == kai
    assert decision.on_behalf_of == lo
    assert decision.substitution == substitution
    assert decision.delegation.role == Staff.Role.TEAM_LEADER
    event = AuditEvent.objects.get(kind="decision.signed")
    assert event.data["on_behalf_of"] == lo.pk
    assert event.data["substitution"] == substitution.pk


@pytest.mark.django_db
def test_own_delegation_comes_before_acting_as_substitute(core_request, crew, core_org):
    """Within his own limit Kai signs in his own name, not on the absent person's behalf."""
    kai, lo = crew["kai"], crew["lo"]
    _substitution(core_org, absent=lo, substitute=kai)
    material_open(kai, core_request)
    decision = sign(core_request, kai)
    assert decision.on_behalf_of is None and decision.substitution is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"valid_from": -10, "valid_to": -1},
        {"valid_from": 1, "valid_to": 5},
        {"decision_type": "other-process.beslut"},
        {"deleted": True},
    ],
    ids=["ended", "not-yet", "other-type", "deleted"],
)
def test_substitution_outside_its_scope_is_refused(large_request, crew, core_org, change):
    """A substitution that ended, has not begun, is for another type, or was deleted, is void."""
    kai, lo = crew["kai"], crew["lo"]
    fields = {}
    if "valid_from" in change:
        fields["valid_from"] = _today() + timedelta(days=change["valid_from"])
        fields["valid_to"] = _today() + timedelta(days=change["valid_to"])
    if "decision_type" in change:
        fields["decision_type"] = change["decision_type"]
    substitution = _substitution(core_org, absent=lo, substitute=kai, **fields)
    if change.get("deleted"):
        delegation_services.delegation_order_delete(line=substitution, admin_user=crew["uno"])
    material_open(kai, large_request)
    _refused(large_request, kai, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_only_the_named_substitute_acts_for_the_absent(large_request, crew, core_org):
    """Kim is not Lo's substitute, so Lo's delegation does not reach her."""
    _substitution(core_org, absent=crew["lo"], substitute=crew["kai"])
    kim = crew["kim"]
    material_open(kim, large_request)
    _refused(large_request, kim, rules.DECISION_SIGNER_NOT_DELEGATED)


# --- second signature -----------------------------------------------------------------


def _first_signature(request, user, **kwargs):
    material_open(user, request)
    decision = sign(request, user, **kwargs)
    request.refresh_from_db()
    return decision


@pytest.mark.django_db
def test_decision_above_threshold_waits_for_a_second_signer(core_request, crew, core_org):
    """Above the configured amount the request waits, nothing resumes the flow, until a
    second delegate signs the same material; then exactly one resume is queued."""
    _second_signer_rule(core_org, above_amount=3000)
    kim, kai = crew["kim"], crew["kai"]
    decision = _first_signature(core_request, kim)
    assert decision.cosignature_required
    assert core_request.status == ApprovalRequest.Status.AWAITING_SECOND
    assert not PrefectCommand.objects.filter(kind="resume").exists()
    assert AuditEvent.objects.get(kind="decision.signed").data["cosignature_required"] is True

    material_open(kai, core_request)
    again = sign(core_request, kai)
    assert again.pk == decision.pk
    cosignature = Cosignature.objects.get(decision=decision)
    assert cosignature.signer == kai
    assert cosignature.material_sha256 == decision.material_sha256
    core_request.refresh_from_db()
    assert core_request.status == ApprovalRequest.Status.DECIDED
    command = PrefectCommand.objects.get(kind="resume")
    assert command.payload["run_input"] == services.decision_run_input(decision)
    assert AuditEvent.objects.filter(kind="decision.cosigned").count() == 1


@pytest.mark.django_db
def test_rule_without_amount_applies_to_every_decision_of_the_type(core_request, crew, core_org):
    """A rule with no amount makes every decision of the type wait, refusals included."""
    _second_signer_rule(core_org, above_amount=None)
    decision = _first_signature(
        core_request, crew["kim"], outcome="refused", motivation="Income covers the norm."
    )
    assert decision.cosignature_required
    assert core_request.status == ApprovalRequest.Status.AWAITING_SECOND


@pytest.mark.django_db
def test_below_threshold_no_second_signature(core_request, crew, core_org):
    """At or below the rule's amount the decision is complete at once."""
    _second_signer_rule(core_org, above_amount=core_request.authority_amount)
    decision = _first_signature(core_request, crew["kim"])
    assert not decision.cosignature_required
    assert core_request.status == ApprovalRequest.Status.DECIDED
    assert PrefectCommand.objects.filter(kind="resume").count() == 1


@pytest.mark.django_db
def test_return_for_completion_never_needs_a_second_signature(core_request, crew, core_org):
    """Returning a case for completion decides nothing on the matter."""
    _second_signer_rule(core_org, above_amount=None)
    decision = _first_signature(
        core_request, crew["kim"], outcome="returned", motivation="Rent contract missing."
    )
    assert not decision.cosignature_required
    assert core_request.status == ApprovalRequest.Status.DECIDED


@pytest.mark.django_db
def test_rule_out_of_force_does_not_apply(core_request, crew, core_org):
    """A second-signer rule that ended, or was deleted, asks for nothing."""
    _second_signer_rule(
        core_org,
        above_amount=None,
        valid_from=_today() - timedelta(days=30),
        valid_to=_today() - timedelta(days=1),
    )
    rule = _second_signer_rule(core_org, above_amount=None)
    delegation_services.delegation_order_delete(line=rule, admin_user=crew["uno"])
    decision = _first_signature(core_request, crew["kim"])
    assert not decision.cosignature_required


@pytest.mark.django_db
def test_first_signer_cannot_sign_twice(core_request, crew, core_org):
    """The second signature must come from another person."""
    _second_signer_rule(core_org, above_amount=None)
    kim = crew["kim"]
    _first_signature(core_request, kim)
    _refused(core_request, kim, rules.DECISION_COSIGNER_SAME_PERSON)


@pytest.mark.django_db
def test_substitute_for_the_first_signer_is_not_a_second_delegate(large_request, crew, core_org):
    """Kai acting on Lo's behalf cannot second-sign what Lo signed."""
    _second_signer_rule(core_org, above_amount=None)
    lo, kai = crew["lo"], crew["kai"]
    _first_signature(large_request, lo)
    _substitution(core_org, absent=lo, substitute=kai)
    material_open(kai, large_request)
    _refused(
        large_request,
        kai,
        rules.DECISION_COSIGNER_SAME_PERSON,
    )


@pytest.mark.django_db
def test_second_signer_must_open_the_material(core_request, crew, core_org):
    """The second signer's own view of the material is required too."""
    _second_signer_rule(core_org, above_amount=None)
    _first_signature(core_request, crew["kim"])
    _refused(core_request, crew["kai"], rules.DECISION_MATERIAL_NOT_OPENED)


@pytest.mark.django_db
def test_second_signer_must_sign_the_same_material_hash(core_request, crew, core_org):
    """A second signature on another hash than the first signer's is refused."""
    _second_signer_rule(core_org, above_amount=None)
    _first_signature(core_request, crew["kim"])
    kai = crew["kai"]
    material_open(kai, core_request)
    _refused(core_request, kai, rules.DECISION_MATERIAL_STALE, shown_material_sha256="f" * 64)


@pytest.mark.django_db
def test_second_signer_must_confirm_the_same_outcome_and_amount(core_request, crew, core_org):
    """A second signer who would decide otherwise does not give a second signature."""
    _second_signer_rule(core_org, above_amount=None)
    _first_signature(core_request, crew["kim"])
    kai = crew["kai"]
    material_open(kai, core_request)
    _refused(
        core_request,
        kai,
        rules.DECISION_COSIGNATURE_MISMATCH,
        outcome="approved",
        amount=100,
    )
    _refused(
        core_request, kai, rules.DECISION_COSIGNATURE_MISMATCH, outcome="refused", motivation="No"
    )


@pytest.mark.django_db
def test_second_signer_needs_a_delegation_covering_the_amount(large_request, crew, core_org):
    """Lo decided 20 000 kr; a caseworker (limit 10 000) cannot be the second signer."""
    _second_signer_rule(core_org, above_amount=None)
    _first_signature(large_request, crew["lo"])
    kai = crew["kai"]
    material_open(kai, large_request)
    _refused(
        large_request,
        kai,
        rules.DECISION_SIGNER_NOT_DELEGATED,
    )


@pytest.mark.django_db
def test_second_signer_with_conflict_of_interest_is_refused(core_request, crew, core_org):
    """Conflict of interest applies to the second signer as well."""
    _second_signer_rule(core_org, above_amount=None)
    _first_signature(core_request, crew["kim"])
    kai = crew["kai"]
    Staff.objects.filter(user=kai).update(personnummer=core_request.case.applicant_personnummer)
    kai.refresh_from_db()
    material_open(kai, core_request)
    _refused(core_request, kai, rules.DECISION_SIGNER_CONFLICT_OF_INTEREST)


@pytest.mark.django_db
def test_second_signer_must_be_human_with_access(core_request, crew, core_org):
    """Integration accounts and auditors cannot give the second signature either."""
    _second_signer_rule(core_org, above_amount=None)
    _first_signature(core_request, crew["kim"])
    _refused(core_request, crew["core-system"], rules.DECISION_SIGNER_NOT_HUMAN)
    greta = crew["greta"]
    material_open(greta, core_request)
    _refused(core_request, greta, rules.DECISION_SIGNER_NO_ACCESS)


@pytest.mark.django_db
def test_request_with_second_signature_cannot_be_signed_a_third_time(core_request, crew, core_org):
    """Once both have signed the request is closed."""
    _second_signer_rule(core_org, above_amount=None)
    _first_signature(core_request, crew["kim"])
    kai, lo = crew["kai"], crew["lo"]
    material_open(kai, core_request)
    sign(core_request, kai)
    material_open(lo, core_request)
    _refused(core_request, lo, rules.DECISION_REQUEST_NOT_OPEN)


# --- database constraints -------------------------------------------------------------


def _decision_fields(request, user, **changes):
    now = timezone.now()
    fields = {
        "request": request,
        "outcome": "approved",
        "authority_amount": request.authority_amount,
        "motivation": "",
        "signer": user,
        "signer_name": "Kim Lind",
        "signer_title": "Socialsekreterare",
        "delegation": Delegation.objects.filter(role=Staff.Role.CASEWORKER).first(),
        "signed_at": now,
        "material": request.material,
        "material_sha256": request.material.sha256,
        "material_opened_at": now - timedelta(minutes=3),
        "followed_proposal": True,
    }
    fields.update(changes)
    return fields


def _integrity_error(create):
    refused_by_database(create)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"signer": None},
        {"signed_at": None},
        {"material_sha256": ""},
        {"material_sha256": "abc"},
        {"material_opened_at": None},
        {"material_opened_at": timezone.now() + timedelta(hours=1)},
        {"outcome": "rubber-stamped"},
        {"outcome": "refused", "authority_amount": 0, "motivation": ""},
        {"outcome": "approved", "delegation": None},
        {"outcome": "approved", "authority_amount": None},
        {"on_behalf_of_self": True},
        {"on_behalf_of_without_substitution": True},
    ],
    ids=[
        "no-signer",
        "no-time",
        "no-hash",
        "short-hash",
        "never-opened",
        "opened-after-signing",
        "unknown-outcome",
        "refusal-without-motivation",
        "no-delegation",
        "approval-without-amount",
        "on-behalf-of-self",
        "on-behalf-without-substitution",
    ],
)
def test_database_refuses_an_incomplete_decision(core_request, crew, core_org, changes):
    """Written past the service, a decision row without its essentials cannot exist."""
    kim, lo = crew["kim"], crew["lo"]
    changes = dict(changes)
    if changes.pop("on_behalf_of_self", False):
        changes["on_behalf_of"] = kim
        changes["substitution"] = _substitution(core_org, absent=lo, substitute=kim)
    if changes.pop("on_behalf_of_without_substitution", False):
        changes["on_behalf_of"] = lo
    _integrity_error(
        lambda: Decision.objects.create(**_decision_fields(core_request, kim, **changes))
    )
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_database_refuses_a_raw_insert_without_signer(core_request, crew, core_org):
    """A plain SQL insert that leaves out signer, time and hash fails in the database."""
    sql = (
        "INSERT INTO approvals_decision (request_id, outcome, authority_amount, motivation, signer_name, "
        "signer_title, material_id, material_sha256, followed_proposal, cosignature_required) "
        "VALUES (%s, 'returned', NULL, 'x', 'n', 't', %s, %s, false, false)"
    )
    params = [core_request.pk, core_request.material_id, core_request.material.sha256]
    refused_by_database(lambda: raw_sql(sql, params))
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_database_refuses_two_decisions_for_one_request(core_request, crew, core_org):
    """One request, one decision: a second row fails on the unique key."""
    kim = crew["kim"]
    Decision.objects.create(**_decision_fields(core_request, kim))
    _integrity_error(lambda: Decision.objects.create(**_decision_fields(core_request, kim)))
    assert Decision.objects.count() == 1


@pytest.mark.django_db
def test_database_refuses_to_delete_a_decision(core_request, crew, core_org):
    """A decision can be updated by the flow (verified, executed) but never deleted."""
    kim = crew["kim"]
    material_open(kim, core_request)
    decision = sign(core_request, kim)
    _integrity_error(lambda: Decision.objects.filter(pk=decision.pk).delete())
    refused_by_database(lambda: raw_sql("DELETE FROM approvals_decision WHERE id = %s", [decision.pk]))
    Decision.objects.filter(pk=decision.pk).update(verified_at=timezone.now())
    assert Decision.objects.filter(pk=decision.pk, verified_at__isnull=False).exists()


@pytest.mark.django_db
def test_database_refuses_an_incomplete_or_changed_second_signature(core_request, crew, core_org):
    """A second signature needs signer, time and hash, is one per decision, and is final."""
    kim, kai = crew["kim"], crew["kai"]
    decision = Decision.objects.create(**_decision_fields(core_request, kim))
    now = timezone.now()
    good = {
        "decision": decision,
        "signer": kai,
        "signer_name": "Kai Berg",
        "signer_title": "Socialsekreterare",
        "delegation": decision.delegation,
        "signed_at": now,
        "material_sha256": decision.material_sha256,
        "material_opened_at": now - timedelta(minutes=1),
    }
    for change in ({"signer": None}, {"signed_at": None}, {"material_sha256": ""}):
        _integrity_error(lambda change=change: Cosignature.objects.create(**{**good, **change}))
    assert not Cosignature.objects.exists()
    cosignature = Cosignature.objects.create(**good)
    _integrity_error(lambda: Cosignature.objects.create(**good))
    _integrity_error(
        lambda: Cosignature.objects.filter(pk=cosignature.pk).update(material_sha256="e" * 64)
    )
    _integrity_error(lambda: Cosignature.objects.filter(pk=cosignature.pk).delete())
    assert Cosignature.objects.get().material_sha256 == decision.material_sha256


@pytest.mark.django_db
def test_database_refuses_a_second_pending_request_for_a_case(core_request, crew, core_org):
    """While a request is open or waiting for its second signature, no other may be opened."""
    _second_signer_rule(core_org, above_amount=None)
    _first_signature(core_request, crew["kim"])
    _integrity_error(
        lambda: ApprovalRequest.objects.create(
            case=core_request.case,
            material=core_request.material,
            unit=core_request.unit,
            decision_type=core_request.decision_type,
            authority_amount=1,
        )
    )


# --- after resume: the flow re-checks the stored decision ----------------------------


def _verify(request, decision, **changes):
    params = {
        "request_id": request.pk,
        "claimed_request_id": request.pk,
        "decision_id": decision.pk if decision else 1,
        "material_sha256": request.material.sha256,
        "flow_run_id": "00000000-0000-0000-0000-000000000000",
        "attempt_key": f"approval-{request.pk}-0",
    }
    params.update(changes)
    return services.decision_verify_for_execution(**params)


def _verify_refused(request, decision, code, **changes):
    """Verification fails with `code`: one resume.rejected event, and nothing verified."""
    rejected = AuditEvent.objects.filter(kind="resume.rejected").count()
    with pytest.raises(services.GateRefused) as exc:
        _verify(request, decision, **changes)
    assert exc.value.code == code
    assert AuditEvent.objects.filter(kind="resume.rejected").count() == rejected + 1
    assert not Decision.objects.filter(verified_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(kind="resume.verified").exists()


@pytest.fixture
def signed(core_request, crew, core_org):
    kim = crew["kim"]
    material_open(kim, core_request)
    return sign(core_request, kim)


@pytest.mark.django_db
def test_verify_accepts_the_stored_decision_once(core_request, signed):
    """The real decision's ids and hash verify; a repeated resume does not log twice."""
    verified = _verify(core_request, signed)
    assert verified.decision_id == signed.pk and verified.outcome == "approved"
    signed.refresh_from_db()
    assert signed.verified_at is not None
    _verify(core_request, signed)
    assert AuditEvent.objects.filter(kind="resume.verified").count() == 1


@pytest.mark.django_db
def test_verify_refuses_a_made_up_decision_id(core_request, signed):
    """A decision id that is not this request's decision is a forged claim."""
    _verify_refused(core_request, signed, rules.RESUME_INPUT_MISMATCH, decision_id=signed.pk + 999)


@pytest.mark.django_db
def test_verify_refuses_a_claim_when_nothing_was_signed(core_request, crew, core_org):
    """Resuming a request nobody signed is refused."""
    _verify_refused(core_request, None, rules.RESUME_NO_DECISION, decision_id=424242)


@pytest.mark.django_db
def test_verify_refuses_an_unknown_request(core_request, signed):
    """A request id that does not exist is refused, with nothing to log it on."""
    events = AuditEvent.objects.count()
    with pytest.raises(services.GateRefused) as exc:
        _verify(core_request, signed, request_id=core_request.pk + 999)
    assert exc.value.code == rules.RESUME_NO_DECISION
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_verify_refuses_a_mismatched_request_id(core_request, signed):
    """The claim must name the request the flow is waiting for."""
    _verify_refused(
        core_request, signed, rules.RESUME_INPUT_MISMATCH, claimed_request_id=core_request.pk + 1
    )


@pytest.mark.django_db
def test_verify_refuses_a_mismatched_hash(core_request, signed):
    """The claim's material hash must be the one the decision was signed on."""
    _verify_refused(core_request, signed, rules.RESUME_INPUT_MISMATCH, material_sha256="a" * 64)


@pytest.mark.django_db
def test_verify_refuses_a_decision_by_a_since_deleted_delegation(core_request, signed, crew):
    """If the line the decision was signed under was deleted before resume, nothing executes."""
    delegation_services.delegation_order_delete(line=signed.delegation, admin_user=crew["uno"])
    _verify_refused(core_request, signed, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_verify_refuses_when_the_line_no_longer_covers_the_amount(core_request, signed):
    """A line corrected to a lower limit than the decided amount no longer backs it."""
    Delegation.objects.filter(pk=signed.delegation_id).update(max_amount=100)
    _verify_refused(core_request, signed, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_verify_refuses_when_the_substitution_was_deleted(large_request, crew, core_org):
    """A decision on someone's behalf needs the substitution to stand at resume."""
    kai, lo = crew["kai"], crew["lo"]
    substitution = _substitution(core_org, absent=lo, substitute=kai)
    material_open(kai, large_request)
    decision = sign(large_request, kai)
    delegation_services.delegation_order_delete(line=substitution, admin_user=crew["uno"])
    _verify_refused(large_request, decision, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_verify_accepts_a_substitute_decision_that_still_stands(large_request, crew, core_org):
    """An on-behalf-of decision verifies while line and substitution stand."""
    kai, lo = crew["kai"], crew["lo"]
    _substitution(core_org, absent=lo, substitute=kai)
    material_open(kai, large_request)
    decision = sign(large_request, kai)
    assert _verify(large_request, decision).decision_id == decision.pk


@pytest.mark.django_db
def test_verify_refuses_a_decision_still_waiting_for_its_second_signature(
    core_request, crew, core_org
):
    """A forged resume while the second signature is missing is refused; after it, accepted."""
    _second_signer_rule(core_org, above_amount=None)
    decision = _first_signature(core_request, crew["kim"])
    _verify_refused(core_request, decision, rules.RESUME_COSIGNATURE_MISSING)
    kai = crew["kai"]
    material_open(kai, core_request)
    sign(core_request, kai)
    assert _verify(core_request, decision, attempt_key="next").decision_id == decision.pk


@pytest.mark.django_db
def test_verify_refuses_when_the_second_signers_line_was_deleted(large_request, crew, core_org):
    """The second signature is re-checked like the first."""
    _second_signer_rule(core_org, above_amount=None)
    lo, kai = crew["lo"], crew["kai"]
    Delegation.objects.create(
        unit=core_org["unit"],
        decision_type=DECISION_TYPE,
        user=kai,
        max_amount=30000,
        valid_from=_today(),
        reference="SN 4.2.9",
    )
    decision = _first_signature(large_request, lo)
    material_open(kai, large_request)
    sign(large_request, kai)
    cosignature = Cosignature.objects.get(decision=decision)
    assert cosignature.delegation.reference == "SN 4.2.9"
    delegation_services.delegation_order_delete(line=cosignature.delegation, admin_user=crew["uno"])
    _verify_refused(large_request, decision, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_verify_logs_a_repeated_refused_attempt_once(core_request, signed):
    """The same refused attempt (same key) is logged once, however often it is re-checked."""
    for _ in range(3):
        with pytest.raises(services.GateRefused):
            _verify(core_request, signed, decision_id=signed.pk + 1)
    assert AuditEvent.objects.filter(kind="resume.rejected").count() == 1


# --- two signers at the same moment (PostgreSQL) ------------------------------------


def _race(calls):
    """Run the calls in threads released together; returns (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait(timeout=10)
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


@pytest.fixture
def _no_prefect_delivery(monkeypatch):
    """After a real commit the resume is delivered; here Prefect is a stub."""
    delivered = []
    monkeypatch.setattr(
        "approvals.prefect_gateway.flow_run_resume",
        lambda *, flow_run_id, run_input: delivered.append(run_input) or "resumed",
    )
    return delivered


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_signers_at_once_make_exactly_one_decision(
    core_request, crew, core_org, _no_prefect_delivery
):
    """Kim and Kai press "sign" at the same moment: one decision, one resume, one refusal."""
    kim, kai = crew["kim"], crew["kai"]
    material_open(kim, core_request)
    material_open(kai, core_request)
    results, errors = _race([lambda: sign(core_request, kim), lambda: sign(core_request, kai)])
    assert len(results) == 1
    assert len(errors) == 1
    assert isinstance(errors[0], services.GateRefused)
    assert errors[0].code == rules.DECISION_REQUEST_NOT_OPEN
    assert Decision.objects.filter(request=core_request).count() == 1
    assert PrefectCommand.objects.filter(kind="resume").count() == 1
    assert AuditEvent.objects.filter(kind="decision.signed").count() == 1
    assert len(_no_prefect_delivery) == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_second_signers_at_once_make_exactly_one_cosignature(
    core_request, crew, core_org, _no_prefect_delivery
):
    """Two delegates second-sign at the same moment: one second signature, one resume."""
    _second_signer_rule(core_org, above_amount=None)
    _first_signature(core_request, crew["kim"])
    kai, lo = crew["kai"], crew["lo"]
    material_open(kai, core_request)
    material_open(lo, core_request)
    results, errors = _race([lambda: sign(core_request, kai), lambda: sign(core_request, lo)])
    assert len(results) == 1 and len(errors) == 1
    assert errors[0].code == rules.DECISION_REQUEST_NOT_OPEN
    assert Cosignature.objects.count() == 1
    assert PrefectCommand.objects.filter(kind="resume").count() == 1
    assert len(_no_prefect_delivery) == 1


# --- the pure predicates --------------------------------------------------------------


def _line(id_, *, user_id=None, role="caseworker", max_amount=None, days=(-10, None)):
    today = _today()
    return rules.DelegationLine(
        id_,
        user_id,
        role if user_id is None else "",
        max_amount,
        today + timedelta(days=days[0]),
        today + timedelta(days=days[1]) if days[1] is not None else None,
    )


SIGNER = rules.Signer(user_id=7, is_active=True, is_human=True, role="caseworker", personnummer="")


def test_named_line_is_preferred_over_role_line():
    """The person's own line wins over the role line; among them the narrowest that covers."""
    lines = [_line(1, max_amount=None), _line(2, user_id=7, max_amount=9000), _line(3)]
    assert rules.matching_delegation(signer=SIGNER, lines=lines, amount=5000, on=_today()).id == 2
    assert rules.matching_delegation(signer=SIGNER, lines=lines, amount=9500, on=_today()).id == 1


def test_signing_authority_falls_back_to_the_absent_persons_lines():
    """Without an own covering line, a substitution for the absent holder gives authority."""
    today = _today()
    sub = rules.SubstitutionLine(
        5, 8, "team_leader", 7, "", today - timedelta(days=1), today + timedelta(days=1)
    )
    lines = [_line(1, max_amount=15000), _line(2, role="team_leader")]
    authority = rules.signing_authority(
        signer=SIGNER, lines=lines, substitutions=[sub], decision_type="x", amount=20000, on=today
    )
    assert authority.line.id == 2 and authority.on_behalf_of_user_id == 8
    assert (
        rules.signing_authority(
            signer=SIGNER, lines=lines, substitutions=[], decision_type="x", amount=20000, on=today
        )
        is None
    )


def test_second_signature_rule_thresholds():
    """Above the amount (or always, without one); never for a return for completion."""
    today = _today()
    above = [rules.SecondSignerLine(1, 10000, today - timedelta(days=1), None)]
    always = [rules.SecondSignerLine(2, None, today - timedelta(days=1), None)]
    assert not rules.second_signature_required(
        rules=above, outcome="approved", amount=10000, on=today
    )
    assert rules.second_signature_required(rules=above, outcome="approved", amount=10001, on=today)
    assert rules.second_signature_required(rules=always, outcome="refused", amount=0, on=today)
    assert not rules.second_signature_required(
        rules=always, outcome="returned", amount=None, on=today
    )


@pytest.mark.django_db
def test_waiting_for_a_second_signature_tells_the_unit(core_request, crew, core_org):
    """The unit's other delegates are notified; the first signer is not."""
    from approvals.models import Notice

    for user in crew.values():
        user.email = f"{user.username}@kommun.example"
        user.save(update_fields=["email"])
    _second_signer_rule(core_org, above_amount=None)
    _first_signature(core_request, crew["kim"])
    notice = Notice.objects.get(request=core_request, kind=Notice.Kind.SECOND_SIGNATURE)
    assert "kim" not in notice.recipients
    assert "kai" in notice.recipients


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_three_signers_through_the_page_at_once_never_deadlock(
    core_request, crew, core_org, _no_prefect_delivery
):
    """Kim, Kai and Lo press "sign" on the case page together (issue 10, point 7): one
    decision, two refusals shown as pages (never a 500), and both refusals on the trail."""
    from django.test import Client
    from django.urls import reverse

    signers = [crew["kim"], crew["kai"], crew["lo"]]
    for user in signers:
        material_open(user, core_request)
    url = reverse("approvals:decide", args=[core_request.pk])
    body = {
        "outcome": "approved",
        "motivation": "",
        "material_sha256": core_request.material.sha256,
    }

    def press(user):
        client = Client()
        login_fresh(client, user)
        return client.post(url, body).status_code

    # Lock-order races show up only sometimes: the first round decides, two more rounds
    # (all refused, the request being decided) press again at once.
    for _ in range(3):
        statuses, errors = _race([lambda u=u: press(u) for u in signers])
        assert errors == [] and len(statuses) == 3 and 500 not in statuses, (statuses, errors)
        assert Decision.objects.filter(request=core_request).count() == 1
    assert AuditEvent.objects.filter(kind="decision.signed").count() == 1
    assert AuditEvent.objects.filter(kind="decision.sign_refused").count() == 2 + 3 + 3
