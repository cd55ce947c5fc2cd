"""The legal gate: every way around the human signature fails and writes nothing.

One test per rule of approvals.services.decision_sign (and the second signature it
records on a request waiting for one), the database constraints behind it, the
re-check after resume (decision_verify_for_execution), and two signers at once.
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
from flows.ekonomiskt_bistand.process import DECISION_TYPE as DECISION_TYPE_BISTAND
from municipality import services as delegation_services
from municipality.models import Delegation, SecondSignerRule, Staff, Substitution, Unit
from tests.db_helpers import guards_off, raw_sql, refused_by_database
from tests.gate_helpers import material_open, sign

# The gate never reads the PDF bytes: skip WeasyPrint.
pytestmark = pytest.mark.usefixtures("fast_pdf")

SIGN_EVENTS = ("decision.signed", "decision.cosigned")
# Decided before any fixture runs: a skipped transactional test must not flush SQLite,
# whose append-only triggers refuse the DELETE that flushing uses there.
postgresql_only = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="row locks and TRUNCATE are PostgreSQL features",
)


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


def _substitution(org, *, absent, substitute, **fields):
    fields.setdefault("valid_from", _today() - timedelta(days=1))
    fields.setdefault("valid_to", _today() + timedelta(days=7))
    return Substitution.objects.create(
        unit=org["unit"], absent=absent, substitute=substitute, **fields
    )


def _second_signer_rule(org, **fields):
    fields.setdefault("valid_from", _today() - timedelta(days=30))
    return SecondSignerRule.objects.create(
        unit=org["unit"], decision_type=DECISION_TYPE_BISTAND, **fields
    )


def _caseworker_line(org):
    return Delegation.objects.get(unit=org["unit"], role=Staff.Role.CASEWORKER)


# --- the first signature --------------------------------------------------------------


@pytest.mark.django_db
def test_caseworker_with_delegation_signs_after_opening_material(open_request, org):
    """A delegated caseworker who opened the material signs; the resume is queued with ids only."""
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    decision = sign(open_request, anna)
    assert decision.signer == anna
    assert decision.material_sha256 == open_request.material.sha256
    assert decision.authority_amount == open_request.authority_amount
    assert decision.delegation == _caseworker_line(org)
    assert decision.on_behalf_of is None and not decision.cosignature_required
    command = PrefectCommand.objects.get(kind="resume")
    assert set(command.payload["run_input"]) == {"request_id", "decision_id", "material_sha256"}
    assert AuditEvent.objects.filter(kind="decision.signed", case=open_request.case).count() == 1


@pytest.mark.django_db
def test_integration_account_cannot_sign(open_request, org):
    """An integration account is refused even with a permission grant."""
    etjanst = org["users"]["etjanst"]
    _refused(open_request, etjanst, rules.DECISION_SIGNER_NOT_HUMAN)


@pytest.mark.django_db
def test_robot_account_cannot_sign(open_request, org, django_user_model):
    """A robot account in the unit's group, with a named delegation line, is still refused."""
    robot = django_user_model.objects.create_user("robot-bistand")
    Staff.objects.create(
        user=robot, unit=org["unit"], kind=Staff.Kind.ROBOT, role=Staff.Role.SYSTEM
    )
    robot.groups.add(*org["users"]["anna"].groups.all())
    Delegation.objects.create(
        unit=org["unit"], decision_type=DECISION_TYPE_BISTAND, user=robot, valid_from=_today()
    )
    material_open(robot, open_request)
    _refused(open_request, robot, rules.DECISION_SIGNER_NOT_HUMAN)


@pytest.mark.django_db
def test_inactive_account_cannot_sign(open_request, org):
    """A deactivated account is refused, even after it opened the material."""
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    anna.is_active = False
    anna.save()
    _refused(open_request, anna, rules.DECISION_SIGNER_INACTIVE)


@pytest.mark.django_db
def test_signing_without_opening_material_is_refused(open_request, org):
    """A signature without a recorded view of the material is refused."""
    _refused(open_request, org["users"]["anna"], rules.DECISION_MATERIAL_NOT_OPENED)


@pytest.mark.django_db
def test_a_colleague_opening_the_material_does_not_count(open_request, org):
    """Only the signer's own view of the material counts as having opened it."""
    material_open(org["users"]["erik"], open_request)
    _refused(open_request, org["users"]["anna"], rules.DECISION_MATERIAL_NOT_OPENED)


@pytest.mark.django_db
def test_stale_material_hash_is_refused(open_request, org):
    """A hash other than the current material's is refused as stale."""
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_MATERIAL_STALE, shown_material_sha256="0" * 64)


@pytest.mark.django_db
def test_newer_material_version_makes_the_shown_one_stale(open_request, org):
    """When a newer material version exists, signing on the one shown is refused."""
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    old = open_request.material
    Material.objects.create(
        case=open_request.case,
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
    _refused(open_request, anna, rules.DECISION_MATERIAL_STALE)


@pytest.mark.django_db
def test_superuser_without_delegation_cannot_sign(open_request, org, django_user_model):
    """A superuser flag grants nothing: no unit grant, no delegation, no signature."""
    boss = django_user_model.objects.create_superuser("boss", password="x")
    Staff.objects.create(user=boss, kind=Staff.Kind.HUMAN, role=Staff.Role.CASEWORKER)
    material_open(boss, open_request)
    _refused(open_request, boss, rules.DECISION_SIGNER_NO_ACCESS)


@pytest.mark.django_db
def test_superuser_in_the_unit_without_a_delegation_line_cannot_sign(
    open_request, org, django_user_model
):
    """A superuser with the unit's grants but a role no delegation line covers is refused."""
    boss = django_user_model.objects.create_superuser("boss", password="x")
    Staff.objects.create(
        user=boss, unit=org["unit"], kind=Staff.Kind.HUMAN, role=Staff.Role.UNIT_ADMIN
    )
    boss.groups.add(*org["users"]["anna"].groups.all())
    material_open(boss, open_request)
    _refused(open_request, boss, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_auditor_cannot_sign(open_request, org):
    """The auditor reads every trail but holds no grant on the request."""
    greta = org["users"]["greta"]
    material_open(greta, open_request)
    _refused(open_request, greta, rules.DECISION_SIGNER_NO_ACCESS)


@pytest.mark.django_db
def test_unit_administrator_cannot_sign(open_request, org):
    """Keeping the delegation order gives no power to decide."""
    ulla = org["users"]["ulla"]
    material_open(ulla, open_request)
    _refused(open_request, ulla, rules.DECISION_SIGNER_NO_ACCESS)


@pytest.mark.django_db
def test_amount_above_the_delegation_limit_is_refused(open_request, org):
    """A caseworker's line ends at 15 000 kr; a higher amount needs the team leader."""
    anna, maria = org["users"]["anna"], org["users"]["maria"]
    material_open(anna, open_request)
    _refused(
        open_request,
        anna,
        rules.DECISION_SIGNER_NOT_DELEGATED,
        outcome="partly_approved",
        amount=20000,
        motivation="Extra costs for dental care.",
    )
    material_open(maria, open_request)
    decision = sign(
        open_request, maria, outcome="partly_approved", amount=20000, motivation="Dental care."
    )
    assert decision.delegation.role == Staff.Role.TEAM_LEADER


@pytest.mark.django_db
def test_expired_delegation_is_refused(open_request, org):
    """A line that ended before the signing date covers nothing."""
    line = _caseworker_line(org)
    line.valid_from = _today() - timedelta(days=60)
    line.valid_to = _today() - timedelta(days=1)
    line.save()
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_delegation_not_yet_in_force_is_refused(open_request, org):
    """A line that starts after the signing date covers nothing."""
    line = _caseworker_line(org)
    line.valid_from = _today() + timedelta(days=1)
    line.save()
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_deleted_delegation_line_is_refused(open_request, org):
    """A line the unit administrator deleted backs nothing, though the row is kept."""
    delegation_services.delegation_order_delete(
        line=_caseworker_line(org), admin_user=org["users"]["ulla"]
    )
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_delegation_in_another_unit_does_not_count(open_request, org):
    """A line for the same decision type in another unit does not cover this unit's cases."""
    other = Unit.objects.create(code="ovr", name="Annan enhet", committee="Socialnämnden")
    line = _caseworker_line(org)
    line.unit = other
    line.save()
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_delegation_for_another_decision_type_does_not_count(open_request, org):
    """A line for another decision type does not cover this one."""
    line = _caseworker_line(org)
    line.decision_type = "skolplikt.foreläggande"
    line.save()
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_named_person_line_covers_only_that_person(open_request, org):
    """With the role line gone, a line naming Erik lets Erik sign and not Anna."""
    _caseworker_line(org).delete()
    erik, anna = org["users"]["erik"], org["users"]["anna"]
    named = Delegation.objects.create(
        unit=org["unit"],
        decision_type=DECISION_TYPE_BISTAND,
        user=erik,
        max_amount=10000,
        valid_from=_today(),
    )
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_SIGNER_NOT_DELEGATED)
    material_open(erik, open_request)
    assert sign(open_request, erik).delegation == named


@pytest.mark.django_db
def test_person_who_prepared_the_material_cannot_sign(open_request, org):
    """Separation of duties: whoever prepared or changed the material does not decide on it."""
    anna = org["users"]["anna"]
    # Material is append-only: the preparer is set as only the table owner could now.
    with guards_off():
        Material.objects.filter(pk=open_request.material_id).update(prepared_by=anna)
    open_request.refresh_from_db()
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_SIGNER_PREPARED_MATERIAL)


@pytest.mark.django_db
def test_applicant_cannot_decide_own_case(open_request, org):
    """Conflict of interest: a signer whose personnummer is the applicant's is refused."""
    anna = org["users"]["anna"]
    Staff.objects.filter(user=anna).update(personnummer=open_request.case.applicant_personnummer)
    anna.refresh_from_db()
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_SIGNER_CONFLICT_OF_INTEREST)


@pytest.mark.django_db
def test_household_member_cannot_decide_the_case(open_request, org):
    """Conflict of interest: a member of the applicant's household is refused too."""
    anna = org["users"]["anna"]
    case = open_request.case
    CaseParty.objects.create(case=case, personnummer="198507099805", role="other_adult")
    Staff.objects.filter(user=anna).update(personnummer="198507099805")
    anna.refresh_from_db()
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_SIGNER_CONFLICT_OF_INTEREST)


@pytest.mark.django_db
def test_case_claimed_by_a_colleague_is_refused(open_request, org):
    """A request assigned to Erik cannot be signed by Anna."""
    ApprovalRequest.objects.filter(pk=open_request.pk).update(assigned_to=org["users"]["erik"])
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_SIGNER_NOT_ASSIGNEE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("outcome", "motivation", "amount", "code"),
    [
        ("refused", "  ", None, rules.DECISION_MOTIVATION_MISSING),
        ("partly_approved", "", 1000, rules.DECISION_MOTIVATION_MISSING),
        ("returned", "", None, rules.DECISION_MOTIVATION_MISSING),
        ("partly_approved", "Lower rent cap.", -5, rules.DECISION_AMOUNT_INVALID),
        ("granted", "", None, rules.DECISION_OUTCOME_INVALID),
    ],
)
def test_incomplete_outcome_is_refused(open_request, org, outcome, motivation, amount, code):
    """An outcome against the proposal needs a motivation; amounts are whole kronor ≥ 0."""
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    _refused(open_request, anna, code, outcome=outcome, motivation=motivation, amount=amount)


@pytest.mark.django_db
def test_superseded_request_cannot_be_signed(open_request, org):
    """A request replaced by a newer one is no longer open."""
    ApprovalRequest.objects.filter(pk=open_request.pk).update(status="superseded")
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    _refused(open_request, anna, rules.DECISION_REQUEST_NOT_OPEN)


@pytest.mark.django_db
def test_double_submit_makes_one_decision(open_request, org):
    """Signing an already decided request is refused; exactly one decision exists."""
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    sign(open_request, anna)
    _refused(open_request, anna, rules.DECISION_REQUEST_NOT_OPEN)
    assert Decision.objects.filter(request=open_request).count() == 1


@pytest.mark.django_db
def test_signed_event_carries_review_evidence(open_request, org):
    """The decision.signed event records when the material was opened and how long it took."""
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    decision = sign(
        open_request, anna, outcome="partly_approved", amount=4000, motivation="Rent cap."
    )
    event = AuditEvent.objects.get(kind="decision.signed")
    assert event.data["followed_proposal"] is False
    assert decision.followed_proposal is False
    assert event.data["motivation"] == "Rent cap."
    assert event.data["proposed_amount"] == open_request.authority_amount
    assert event.data["seconds_from_open_to_sign"] >= 0
    assert event.data["material_opened_at"] == decision.material_opened_at.isoformat()


# --- substitutes (ersättare) -----------------------------------------------------------


@pytest.mark.django_db
def test_substitute_signs_on_behalf_of_the_absent_delegate(open_request, org):
    """Erik, substitute for the absent team leader, decides above his own limit on her behalf."""
    erik, maria = org["users"]["erik"], org["users"]["maria"]
    substitution = _substitution(org, absent=maria, substitute=erik)
    material_open(erik, open_request)
    decision = sign(
        open_request, erik, outcome="partly_approved", amount=20000, motivation="Dental care."
    )
    assert decision.signer == erik
    assert decision.on_behalf_of == maria
    assert decision.substitution == substitution
    assert decision.delegation.role == Staff.Role.TEAM_LEADER
    event = AuditEvent.objects.get(kind="decision.signed")
    assert event.data["on_behalf_of"] == maria.pk
    assert event.data["substitution"] == substitution.pk


@pytest.mark.django_db
def test_own_delegation_comes_before_acting_as_substitute(open_request, org):
    """Within his own limit Erik signs in his own name, not on the absent person's behalf."""
    erik, maria = org["users"]["erik"], org["users"]["maria"]
    _substitution(org, absent=maria, substitute=erik)
    material_open(erik, open_request)
    decision = sign(open_request, erik)
    assert decision.on_behalf_of is None and decision.substitution is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"valid_from": -10, "valid_to": -1},
        {"valid_from": 1, "valid_to": 5},
        {"decision_type": "skolplikt.foreläggande"},
        {"deleted": True},
    ],
    ids=["ended", "not-yet", "other-type", "deleted"],
)
def test_substitution_outside_its_scope_is_refused(open_request, org, change):
    """A substitution that ended, has not begun, is for another type, or was deleted, is void."""
    erik, maria = org["users"]["erik"], org["users"]["maria"]
    fields = {}
    if "valid_from" in change:
        fields["valid_from"] = _today() + timedelta(days=change["valid_from"])
        fields["valid_to"] = _today() + timedelta(days=change["valid_to"])
    if "decision_type" in change:
        fields["decision_type"] = change["decision_type"]
    substitution = _substitution(org, absent=maria, substitute=erik, **fields)
    if change.get("deleted"):
        delegation_services.delegation_order_delete(
            line=substitution, admin_user=org["users"]["ulla"]
        )
    material_open(erik, open_request)
    _refused(
        open_request,
        erik,
        rules.DECISION_SIGNER_NOT_DELEGATED,
        outcome="partly_approved",
        amount=20000,
        motivation="Dental care.",
    )


@pytest.mark.django_db
def test_only_the_named_substitute_acts_for_the_absent(open_request, org):
    """Anna is not Maria's substitute, so Maria's delegation does not reach her."""
    _substitution(org, absent=org["users"]["maria"], substitute=org["users"]["erik"])
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    _refused(
        open_request,
        anna,
        rules.DECISION_SIGNER_NOT_DELEGATED,
        outcome="partly_approved",
        amount=20000,
        motivation="Dental care.",
    )


# --- second signature -----------------------------------------------------------------


def _first_signature(request, user, **kwargs):
    material_open(user, request)
    decision = sign(request, user, **kwargs)
    request.refresh_from_db()
    return decision


@pytest.mark.django_db
def test_decision_above_threshold_waits_for_a_second_signer(open_request, org):
    """Above the configured amount the request waits, nothing resumes the flow, until a
    second delegate signs the same material; then exactly one resume is queued."""
    _second_signer_rule(org, above_amount=4000)
    anna, erik = org["users"]["anna"], org["users"]["erik"]
    decision = _first_signature(open_request, anna)
    assert decision.cosignature_required
    assert open_request.status == ApprovalRequest.Status.AWAITING_SECOND
    assert not PrefectCommand.objects.filter(kind="resume").exists()
    assert AuditEvent.objects.get(kind="decision.signed").data["cosignature_required"] is True

    material_open(erik, open_request)
    again = sign(open_request, erik)
    assert again.pk == decision.pk
    cosignature = Cosignature.objects.get(decision=decision)
    assert cosignature.signer == erik
    assert cosignature.material_sha256 == decision.material_sha256
    open_request.refresh_from_db()
    assert open_request.status == ApprovalRequest.Status.DECIDED
    command = PrefectCommand.objects.get(kind="resume")
    assert command.payload["run_input"] == services.decision_run_input(decision)
    assert AuditEvent.objects.filter(kind="decision.cosigned").count() == 1


@pytest.mark.django_db
def test_rule_without_amount_applies_to_every_decision_of_the_type(open_request, org):
    """A rule with no amount makes every decision of the type wait, refusals included."""
    _second_signer_rule(org, above_amount=None)
    decision = _first_signature(
        open_request, org["users"]["anna"], outcome="refused", motivation="Income covers the norm."
    )
    assert decision.cosignature_required
    assert open_request.status == ApprovalRequest.Status.AWAITING_SECOND


@pytest.mark.django_db
def test_below_threshold_no_second_signature(open_request, org):
    """At or below the rule's amount the decision is complete at once."""
    _second_signer_rule(org, above_amount=open_request.authority_amount)
    decision = _first_signature(open_request, org["users"]["anna"])
    assert not decision.cosignature_required
    assert open_request.status == ApprovalRequest.Status.DECIDED
    assert PrefectCommand.objects.filter(kind="resume").count() == 1


@pytest.mark.django_db
def test_return_for_completion_never_needs_a_second_signature(open_request, org):
    """Returning a case for completion decides nothing on the matter."""
    _second_signer_rule(org, above_amount=None)
    decision = _first_signature(
        open_request, org["users"]["anna"], outcome="returned", motivation="Rent contract missing."
    )
    assert not decision.cosignature_required
    assert open_request.status == ApprovalRequest.Status.DECIDED


@pytest.mark.django_db
def test_rule_out_of_force_does_not_apply(open_request, org):
    """A second-signer rule that ended, or was deleted, asks for nothing."""
    _second_signer_rule(
        org,
        above_amount=None,
        valid_from=_today() - timedelta(days=30),
        valid_to=_today() - timedelta(days=1),
    )
    rule = _second_signer_rule(org, above_amount=None)
    delegation_services.delegation_order_delete(line=rule, admin_user=org["users"]["ulla"])
    decision = _first_signature(open_request, org["users"]["anna"])
    assert not decision.cosignature_required


@pytest.mark.django_db
def test_first_signer_cannot_sign_twice(open_request, org):
    """The second signature must come from another person."""
    _second_signer_rule(org, above_amount=None)
    anna = org["users"]["anna"]
    _first_signature(open_request, anna)
    _refused(open_request, anna, rules.DECISION_COSIGNER_SAME_PERSON)


@pytest.mark.django_db
def test_substitute_for_the_first_signer_is_not_a_second_delegate(open_request, org):
    """Erik acting on Maria's behalf cannot second-sign what Maria signed."""
    _second_signer_rule(org, above_amount=None)
    maria, erik = org["users"]["maria"], org["users"]["erik"]
    _first_signature(
        open_request, maria, outcome="partly_approved", amount=20000, motivation="Dental care."
    )
    _substitution(org, absent=maria, substitute=erik)
    material_open(erik, open_request)
    _refused(
        open_request,
        erik,
        rules.DECISION_COSIGNER_SAME_PERSON,
        outcome="partly_approved",
        amount=20000,
    )


@pytest.mark.django_db
def test_second_signer_must_open_the_material(open_request, org):
    """The second signer's own view of the material is required too."""
    _second_signer_rule(org, above_amount=None)
    _first_signature(open_request, org["users"]["anna"])
    _refused(open_request, org["users"]["erik"], rules.DECISION_MATERIAL_NOT_OPENED)


@pytest.mark.django_db
def test_second_signer_must_sign_the_same_material_hash(open_request, org):
    """A second signature on another hash than the first signer's is refused."""
    _second_signer_rule(org, above_amount=None)
    _first_signature(open_request, org["users"]["anna"])
    erik = org["users"]["erik"]
    material_open(erik, open_request)
    _refused(open_request, erik, rules.DECISION_MATERIAL_STALE, shown_material_sha256="f" * 64)


@pytest.mark.django_db
def test_second_signer_must_confirm_the_same_outcome_and_amount(open_request, org):
    """A second signer who would decide otherwise does not give a second signature."""
    _second_signer_rule(org, above_amount=None)
    _first_signature(open_request, org["users"]["anna"])
    erik = org["users"]["erik"]
    material_open(erik, open_request)
    _refused(
        open_request,
        erik,
        rules.DECISION_COSIGNATURE_MISMATCH,
        outcome="partly_approved",
        amount=100,
        motivation="Less.",
    )
    _refused(
        open_request, erik, rules.DECISION_COSIGNATURE_MISMATCH, outcome="refused", motivation="No"
    )


@pytest.mark.django_db
def test_second_signer_needs_a_delegation_covering_the_amount(open_request, org):
    """Maria decided 20 000 kr; a caseworker (limit 15 000) cannot be the second signer."""
    _second_signer_rule(org, above_amount=None)
    _first_signature(
        open_request,
        org["users"]["maria"],
        outcome="partly_approved",
        amount=20000,
        motivation="Dental care.",
    )
    erik = org["users"]["erik"]
    material_open(erik, open_request)
    _refused(
        open_request,
        erik,
        rules.DECISION_SIGNER_NOT_DELEGATED,
        outcome="partly_approved",
        amount=20000,
    )


@pytest.mark.django_db
def test_second_signer_with_conflict_of_interest_is_refused(open_request, org):
    """Conflict of interest applies to the second signer as well."""
    _second_signer_rule(org, above_amount=None)
    _first_signature(open_request, org["users"]["anna"])
    erik = org["users"]["erik"]
    Staff.objects.filter(user=erik).update(personnummer=open_request.case.applicant_personnummer)
    erik.refresh_from_db()
    material_open(erik, open_request)
    _refused(open_request, erik, rules.DECISION_SIGNER_CONFLICT_OF_INTEREST)


@pytest.mark.django_db
def test_second_signer_must_be_human_with_access(open_request, org):
    """Integration accounts and auditors cannot give the second signature either."""
    _second_signer_rule(org, above_amount=None)
    _first_signature(open_request, org["users"]["anna"])
    _refused(open_request, org["users"]["etjanst"], rules.DECISION_SIGNER_NOT_HUMAN)
    greta = org["users"]["greta"]
    material_open(greta, open_request)
    _refused(open_request, greta, rules.DECISION_SIGNER_NO_ACCESS)


@pytest.mark.django_db
def test_request_with_second_signature_cannot_be_signed_a_third_time(open_request, org):
    """Once both have signed the request is closed."""
    _second_signer_rule(org, above_amount=None)
    _first_signature(open_request, org["users"]["anna"])
    erik, maria = org["users"]["erik"], org["users"]["maria"]
    material_open(erik, open_request)
    sign(open_request, erik)
    material_open(maria, open_request)
    _refused(open_request, maria, rules.DECISION_REQUEST_NOT_OPEN)


# --- database constraints -------------------------------------------------------------


def _decision_fields(request, user, **changes):
    now = timezone.now()
    fields = {
        "request": request,
        "outcome": "approved",
        "authority_amount": request.authority_amount,
        "motivation": "",
        "signer": user,
        "signer_name": "Anna Lind",
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
def test_database_refuses_an_incomplete_decision(open_request, org, changes):
    """Written past the service, a decision row without its essentials cannot exist."""
    anna, maria = org["users"]["anna"], org["users"]["maria"]
    changes = dict(changes)
    if changes.pop("on_behalf_of_self", False):
        changes["on_behalf_of"] = anna
        changes["substitution"] = _substitution(org, absent=maria, substitute=anna)
    if changes.pop("on_behalf_of_without_substitution", False):
        changes["on_behalf_of"] = maria
    _integrity_error(
        lambda: Decision.objects.create(**_decision_fields(open_request, anna, **changes))
    )
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_database_refuses_a_raw_insert_without_signer(open_request, org):
    """A plain SQL insert that leaves out signer, time and hash fails in the database."""
    sql = (
        "INSERT INTO approvals_decision (request_id, outcome, authority_amount, motivation, signer_name, "
        "signer_title, material_id, material_sha256, followed_proposal, cosignature_required) "
        "VALUES (%s, 'returned', NULL, 'x', 'n', 't', %s, %s, false, false)"
    )
    params = [open_request.pk, open_request.material_id, open_request.material.sha256]
    refused_by_database(lambda: raw_sql(sql, params))
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_database_refuses_two_decisions_for_one_request(open_request, org):
    """One request, one decision: a second row fails on the unique key."""
    anna = org["users"]["anna"]
    Decision.objects.create(**_decision_fields(open_request, anna))
    _integrity_error(lambda: Decision.objects.create(**_decision_fields(open_request, anna)))
    assert Decision.objects.count() == 1


@pytest.mark.django_db
def test_database_refuses_to_delete_a_decision(open_request, org):
    """A decision can be updated by the flow (verified, executed) but never deleted."""
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    decision = sign(open_request, anna)
    _integrity_error(lambda: Decision.objects.filter(pk=decision.pk).delete())
    refused_by_database(lambda: raw_sql("DELETE FROM approvals_decision WHERE id = %s", [decision.pk]))
    Decision.objects.filter(pk=decision.pk).update(verified_at=timezone.now())
    assert Decision.objects.filter(pk=decision.pk, verified_at__isnull=False).exists()


@pytest.mark.django_db
def test_database_refuses_an_incomplete_or_changed_second_signature(open_request, org):
    """A second signature needs signer, time and hash, is one per decision, and is final."""
    anna, erik = org["users"]["anna"], org["users"]["erik"]
    decision = Decision.objects.create(**_decision_fields(open_request, anna))
    now = timezone.now()
    good = {
        "decision": decision,
        "signer": erik,
        "signer_name": "Erik Berg",
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
def test_database_refuses_a_second_pending_request_for_a_case(open_request, org):
    """While a request is open or waiting for its second signature, no other may be opened."""
    _second_signer_rule(org, above_amount=None)
    _first_signature(open_request, org["users"]["anna"])
    _integrity_error(
        lambda: ApprovalRequest.objects.create(
            case=open_request.case,
            material=open_request.material,
            unit=open_request.unit,
            decision_type=open_request.decision_type,
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
def signed(open_request, org):
    anna = org["users"]["anna"]
    material_open(anna, open_request)
    return sign(open_request, anna)


@pytest.mark.django_db
def test_verify_accepts_the_stored_decision_once(open_request, signed):
    """The real decision's ids and hash verify; a repeated resume does not log twice."""
    verified = _verify(open_request, signed)
    assert verified.decision_id == signed.pk and verified.outcome == "approved"
    signed.refresh_from_db()
    assert signed.verified_at is not None
    _verify(open_request, signed)
    assert AuditEvent.objects.filter(kind="resume.verified").count() == 1


@pytest.mark.django_db
def test_verify_refuses_a_made_up_decision_id(open_request, signed):
    """A decision id that is not this request's decision is a forged claim."""
    _verify_refused(open_request, signed, rules.RESUME_INPUT_MISMATCH, decision_id=signed.pk + 999)


@pytest.mark.django_db
def test_verify_refuses_a_claim_when_nothing_was_signed(open_request, org):
    """Resuming a request nobody signed is refused."""
    _verify_refused(open_request, None, rules.RESUME_NO_DECISION, decision_id=424242)


@pytest.mark.django_db
def test_verify_refuses_an_unknown_request(open_request, signed):
    """A request id that does not exist is refused, with nothing to log it on."""
    events = AuditEvent.objects.count()
    with pytest.raises(services.GateRefused) as exc:
        _verify(open_request, signed, request_id=open_request.pk + 999)
    assert exc.value.code == rules.RESUME_NO_DECISION
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_verify_refuses_a_mismatched_request_id(open_request, signed):
    """The claim must name the request the flow is waiting for."""
    _verify_refused(
        open_request, signed, rules.RESUME_INPUT_MISMATCH, claimed_request_id=open_request.pk + 1
    )


@pytest.mark.django_db
def test_verify_refuses_a_mismatched_hash(open_request, signed):
    """The claim's material hash must be the one the decision was signed on."""
    _verify_refused(open_request, signed, rules.RESUME_INPUT_MISMATCH, material_sha256="a" * 64)


@pytest.mark.django_db
def test_verify_refuses_a_decision_by_a_since_deleted_delegation(open_request, signed, org):
    """If the line the decision was signed under was deleted before resume, nothing executes."""
    delegation_services.delegation_order_delete(
        line=signed.delegation, admin_user=org["users"]["ulla"]
    )
    _verify_refused(open_request, signed, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_verify_refuses_when_the_line_no_longer_covers_the_amount(open_request, signed):
    """A line corrected to a lower limit than the decided amount no longer backs it."""
    Delegation.objects.filter(pk=signed.delegation_id).update(max_amount=100)
    _verify_refused(open_request, signed, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_verify_refuses_when_the_substitution_was_deleted(open_request, org):
    """A decision on someone's behalf needs the substitution to stand at resume."""
    erik, maria = org["users"]["erik"], org["users"]["maria"]
    substitution = _substitution(org, absent=maria, substitute=erik)
    material_open(erik, open_request)
    decision = sign(
        open_request, erik, outcome="partly_approved", amount=20000, motivation="Dental care."
    )
    delegation_services.delegation_order_delete(line=substitution, admin_user=org["users"]["ulla"])
    _verify_refused(open_request, decision, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_verify_accepts_a_substitute_decision_that_still_stands(open_request, org):
    """An on-behalf-of decision verifies while line and substitution stand."""
    erik, maria = org["users"]["erik"], org["users"]["maria"]
    _substitution(org, absent=maria, substitute=erik)
    material_open(erik, open_request)
    decision = sign(
        open_request, erik, outcome="partly_approved", amount=20000, motivation="Dental care."
    )
    assert _verify(open_request, decision).decision_id == decision.pk


@pytest.mark.django_db
def test_verify_refuses_a_decision_still_waiting_for_its_second_signature(open_request, org):
    """A forged resume while the second signature is missing is refused; after it, accepted."""
    _second_signer_rule(org, above_amount=None)
    decision = _first_signature(open_request, org["users"]["anna"])
    _verify_refused(open_request, decision, rules.RESUME_COSIGNATURE_MISSING)
    erik = org["users"]["erik"]
    material_open(erik, open_request)
    sign(open_request, erik)
    assert _verify(open_request, decision, attempt_key="next").decision_id == decision.pk


@pytest.mark.django_db
def test_verify_refuses_when_the_second_signers_line_was_deleted(open_request, org):
    """The second signature is re-checked like the first."""
    _second_signer_rule(org, above_amount=None)
    maria, erik = org["users"]["maria"], org["users"]["erik"]
    Delegation.objects.create(
        unit=org["unit"],
        decision_type=DECISION_TYPE_BISTAND,
        user=erik,
        max_amount=30000,
        valid_from=_today(),
        reference="SN 4.2.9",
    )
    decision = _first_signature(
        open_request, maria, outcome="partly_approved", amount=20000, motivation="Dental care."
    )
    material_open(erik, open_request)
    sign(open_request, erik, outcome="partly_approved", amount=20000)
    cosignature = Cosignature.objects.get(decision=decision)
    assert cosignature.delegation.reference == "SN 4.2.9"
    delegation_services.delegation_order_delete(
        line=cosignature.delegation, admin_user=org["users"]["ulla"]
    )
    _verify_refused(open_request, decision, rules.DECISION_SIGNER_NOT_DELEGATED)


@pytest.mark.django_db
def test_verify_logs_a_repeated_refused_attempt_once(open_request, signed):
    """The same refused attempt (same key) is logged once, however often it is re-checked."""
    for _ in range(3):
        with pytest.raises(services.GateRefused):
            _verify(open_request, signed, decision_id=signed.pk + 1)
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
def test_two_signers_at_once_make_exactly_one_decision(open_request, org, _no_prefect_delivery):
    """Anna and Erik press "sign" at the same moment: one decision, one resume, one refusal."""
    anna, erik = org["users"]["anna"], org["users"]["erik"]
    material_open(anna, open_request)
    material_open(erik, open_request)
    results, errors = _race([lambda: sign(open_request, anna), lambda: sign(open_request, erik)])
    assert len(results) == 1
    assert len(errors) == 1
    assert isinstance(errors[0], services.GateRefused)
    assert errors[0].code == rules.DECISION_REQUEST_NOT_OPEN
    assert Decision.objects.filter(request=open_request).count() == 1
    assert PrefectCommand.objects.filter(kind="resume").count() == 1
    assert AuditEvent.objects.filter(kind="decision.signed").count() == 1
    assert len(_no_prefect_delivery) == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_second_signers_at_once_make_exactly_one_cosignature(
    open_request, org, _no_prefect_delivery
):
    """Two delegates second-sign at the same moment: one second signature, one resume."""
    _second_signer_rule(org, above_amount=None)
    _first_signature(open_request, org["users"]["anna"])
    erik, maria = org["users"]["erik"], org["users"]["maria"]
    material_open(erik, open_request)
    material_open(maria, open_request)
    results, errors = _race([lambda: sign(open_request, erik), lambda: sign(open_request, maria)])
    assert len(results) == 1 and len(errors) == 1
    assert errors[0].code == rules.DECISION_REQUEST_NOT_OPEN
    assert Cosignature.objects.count() == 1
    assert PrefectCommand.objects.filter(kind="resume").count() == 1
    assert len(_no_prefect_delivery) == 1


# The pure predicates (rules.matching_delegation, signing_authority,
# second_signature_required) are tested once, in tests/approvals/test_core_gate.py.


@pytest.mark.django_db
def test_waiting_for_a_second_signature_tells_the_unit(open_request, org):
    """The unit's other delegates are notified; the first signer is not."""
    from approvals.models import Notice

    for user in org["users"].values():
        user.email = f"{user.username}@kommun.example"
        user.save(update_fields=["email"])
    _second_signer_rule(org, above_amount=None)
    _first_signature(open_request, org["users"]["anna"])
    notice = Notice.objects.get(request=open_request, kind=Notice.Kind.SECOND_SIGNATURE)
    assert "anna" not in notice.recipients
    assert "erik" in notice.recipients
