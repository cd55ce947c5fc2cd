"""The core enforces each process's decision mode, with the test-only process (tests/core_process).

A public-authority or `human` process cannot complete without a verified signed
decision; an `automatic` process cannot create a Decision; an exception is settled
only by a person of the owning unit holding its grant; an automatic completion is the
robot's act. Each is tried through the services and straight in the database.
"""

import json

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from approvals import rules, services
from approvals.models import ApprovalRequest, AuditEvent, Case, Decision, Document
from approvals.registry import DecisionMode
from municipality.models import Delegation, Staff
from tests.core_process.process import SLUG, core_spec
from tests.gate_helpers import material_open, sign, verify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]

APPLICANT = {"personnummer": "198507099805", "name": "Test Testsson"}


def _open(core_org, *, process=SLUG, ref="t-1", amount=4000) -> Case:
    payload = {"process": process, "external_ref": ref, "applicant": APPLICANT, "amount": amount}
    case, created = services.application_receive(
        raw_body=json.dumps(payload),
        application=payload,
        received_by=core_org["users"]["core-system"],
    )
    assert created
    return case


def _compile(case, *, amount=4000, kind=ApprovalRequest.Kind.DECISION, prepared_by=None):
    opened = services.material_compile(
        case_id=case.pk,
        version=case.materials.count() + 1,
        context={"proposal": {"amount": amount}},
        proposal={"amount": amount},
        flags=[],
        ruleset_version="test-1",
        authority_amount=amount,
        summary=f"{amount} kr",
        compiled_by="robot:core-test/compile",
        request_kind=kind,
        prepared_by=prepared_by,
    )
    return ApprovalRequest.objects.select_related("case", "material").get(pk=opened.request_id)


def _refused_in_database(statement, params):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def automatic(core_org, register_process):
    return register_process(
        core_spec(
            slug="core-test-auto", public_authority=False, decision_mode=DecisionMode.AUTOMATIC
        )
    )


@pytest.fixture
def exceptions(core_org, register_process):
    return register_process(
        core_spec(
            slug="core-test-exc", public_authority=False, decision_mode=DecisionMode.EXCEPTIONS
        )
    )


# --- intake of a generic process ----------------------------------------------------------


def test_intake_takes_the_declaration(core_org):
    """A case carries its process's unit, mode, parties and own data from the declaration."""
    case = _open(core_org)
    assert case.unit == core_org["unit"]
    assert (case.decision_mode, case.public_authority) == ("human", True)
    assert [(p.personnummer, p.role) for p in case.parties.all()] == [("198507099805", "applicant")]
    assert case.data == {"asked": 4000}
    assert case.status == Case.Status.RECEIVED


def test_api_validates_with_the_process_schema(core_org, client):
    """The API picks the body schema by `process`: the test process's own fields are checked."""
    headers = {"Authorization": f"Bearer {core_org['token']}"}
    body = {"process": SLUG, "external_ref": "t-api", "applicant": APPLICANT, "amount": -1}
    refused = client.post(
        "/api/v1/applications/", body, content_type="application/json", headers=headers
    )
    assert refused.status_code == 400 and "amount" in refused.json()["errors"]
    body["amount"] = 100
    created = client.post(
        "/api/v1/applications/", body, content_type="application/json", headers=headers
    )
    assert created.status_code == 201, created.content
    assert Case.objects.get(external_ref="t-api").process == SLUG


def test_api_refuses_an_unknown_process(core_org, client):
    headers = {"Authorization": f"Bearer {core_org['token']}"}
    body = {"process": "no-such", "external_ref": "x", "applicant": APPLICANT, "amount": 1}
    response = client.post(
        "/api/v1/applications/", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert "process" in response.json()["errors"]
    assert not Case.objects.exists()


# --- human mode: only a verified signed decision ends the case ---------------------------


def test_human_process_signs_and_executes_through_the_gate(core_org):
    """Within the limit a delegate signs; verified and executed, the document is written."""
    request = _compile(_open(core_org))
    kim = core_org["users"]["kim"]
    material_open(kim, request)
    decision = sign(request, kim)
    assert (decision.outcome, decision.authority_amount, decision.decided) == (
        "approved",
        4000,
        {"amount": 4000},
    )
    verify(decision)
    document = services.decision_execute(decision_id=decision.pk, document_context={})
    assert document.kind == Document.Kind.DECISION_LETTER
    assert Case.objects.get(pk=request.case_id).status == Case.Status.DECIDED


def test_human_process_over_the_limit_is_refused(core_org):
    """The caseworker's 10 000 limit applies to the test process's authority amount."""
    request = _compile(_open(core_org, amount=20_000), amount=20_000)
    kim = core_org["users"]["kim"]
    material_open(kim, request)
    with pytest.raises(services.GateRefused) as exc:
        sign(request, kim)
    assert exc.value.code == rules.DECISION_SIGNER_NOT_DELEGATED
    assert not Decision.objects.exists()


def test_an_undeclared_outcome_is_refused(core_org):
    """Only the outcomes the decision type declares can be signed (bistånd's are not here)."""
    request = _compile(_open(core_org))
    kim = core_org["users"]["kim"]
    material_open(kim, request)
    with pytest.raises(services.GateRefused) as exc:
        sign(request, kim, outcome="partly_approved", amount=100, motivation="x")
    assert exc.value.code == rules.DECISION_OUTCOME_INVALID


def test_human_process_cannot_be_completed_by_its_robot(core_org):
    """The service refuses a robot completion of a process that needs a human decision."""
    case = _open(core_org)
    with pytest.raises(services.ServiceError) as exc:
        services.case_complete_by_robot(case_id=case.pk, step="x", outcome="done", data={})
    assert exc.value.code == services.CASE_MODE_FORBIDS
    assert Case.objects.get(pk=case.pk).status == Case.Status.RECEIVED


@pytest.mark.parametrize("status", ["completed", "decided"])
def test_database_refuses_ending_a_human_case_without_a_verified_decision(core_org, status):
    """Written straight in the database, a human-mode case still cannot be ended."""
    case = _open(core_org)
    _refused_in_database("UPDATE approvals_case SET status = %s WHERE id = %s", [status, case.pk])
    assert Case.objects.get(pk=case.pk).status == Case.Status.RECEIVED


def test_database_refuses_an_unverified_decision_as_the_end(core_org):
    """A signed but unverified decision does not let the case be set to decided."""
    request = _compile(_open(core_org))
    kim = core_org["users"]["kim"]
    material_open(kim, request)
    sign(request, kim)
    _refused_in_database(
        "UPDATE approvals_case SET status = 'decided' WHERE id = %s", [request.case_id]
    )


def test_database_refuses_changing_a_case_mode(core_org):
    """Someone with the database cannot turn a human case into an automatic one."""
    case = _open(core_org)
    _refused_in_database(
        "UPDATE approvals_case SET decision_mode = 'automatic', public_authority = false "
        "WHERE id = %s",
        [case.pk],
    )


def test_database_refuses_a_public_authority_case_in_automatic_mode(core_org):
    """Public authority with automatic decisions is refused at insert."""
    case = _open(core_org)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(decision_mode="automatic")


# --- automatic mode: the robot's own act, never a Decision ------------------------------


def test_automatic_process_completes_as_the_robots_act(core_org, automatic):
    case = _open(core_org, process=automatic.slug)
    assert (case.decision_mode, case.public_authority) == ("automatic", False)
    services.case_complete_by_robot(case_id=case.pk, step="renew", outcome="renewed", data={"n": 1})
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    event = AuditEvent.objects.get(case=case, kind="case.completed_by_robot")
    assert event.actor_id is None and event.actor_label == "robot:core-test-auto/renew"


def test_automatic_process_cannot_get_a_decision(core_org, automatic):
    """Neither the gate nor a raw insert gives an automatic process's case a Decision."""
    request = _compile(_open(core_org, process=automatic.slug))
    kim = core_org["users"]["kim"]
    material_open(kim, request)
    decision_row = {
        "request": request,
        "outcome": "approved",
        "authority_amount": 4000,
        "signer": kim,
        "signer_name": "Kim",
        "signer_title": "x",
        "delegation": Delegation.objects.filter(unit=core_org["unit"]).first(),
        "signed_at": timezone.now(),
        "material": request.material,
        "material_sha256": request.material.sha256,
        "material_opened_at": timezone.now(),
        "followed_proposal": True,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(**decision_row)
    assert not Decision.objects.exists()


# --- exceptions mode: a person of the owning unit settles, never decides -----------------


def test_exception_is_settled_by_a_person_of_the_unit(core_org, exceptions):
    request = _compile(
        _open(core_org, process=exceptions.slug), kind=ApprovalRequest.Kind.EXCEPTION
    )
    assert Case.objects.get(pk=request.case_id).status == Case.Status.AWAITING_PERSON
    kim = core_org["users"]["kim"]
    settlement = services.exception_settle(
        request_id=request.pk, user=kim, action="done_by_hand", reason="Förnyat i disken."
    )
    assert settlement.settled_by == kim
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.DECIDED
    assert Case.objects.get(pk=request.case_id).status == Case.Status.COMPLETED
    assert AuditEvent.objects.filter(kind="exception.settled", actor=kim).exists()
    assert not Decision.objects.exists()


@pytest.mark.parametrize("who", ["other-unit", "superuser", "integration"])
def test_exception_is_refused_to_everyone_else(core_org, exceptions, org, who):
    """Another unit's caseworker, a superuser without the grant, an integration account."""
    request = _compile(
        _open(core_org, process=exceptions.slug), kind=ApprovalRequest.Kind.EXCEPTION
    )
    user = {
        "other-unit": lambda: org["users"]["anna"],
        "superuser": lambda: User.objects.create_superuser("root", password="x"),
        "integration": lambda: core_org["users"]["core-system"],
    }[who]()
    with pytest.raises(services.ServiceError) as exc:
        services.exception_settle(
            request_id=request.pk, user=user, action="done_by_hand", reason="x"
        )
    assert exc.value.code == services.EXCEPTION_NO_ACCESS
    assert not hasattr(ApprovalRequest.objects.get(pk=request.pk), "settlement")


def test_exception_needs_a_reason_and_a_known_action(core_org, exceptions):
    request = _compile(
        _open(core_org, process=exceptions.slug), kind=ApprovalRequest.Kind.EXCEPTION
    )
    kim = core_org["users"]["kim"]
    for action, reason, code in (
        ("done_by_hand", "  ", services.EXCEPTION_REASON_MISSING),
        ("delete_everything", "x", services.EXCEPTION_ACTION_INVALID),
    ):
        with pytest.raises(services.ServiceError) as exc:
            services.exception_settle(request_id=request.pk, user=kim, action=action, reason=reason)
        assert exc.value.code == code


def test_exception_request_cannot_be_signed_or_decided(core_org, exceptions):
    """The gate refuses to sign an exception, and the database refuses a Decision on it."""
    request = _compile(
        _open(core_org, process=exceptions.slug), kind=ApprovalRequest.Kind.EXCEPTION
    )
    kim = core_org["users"]["kim"]
    material_open(kim, request)
    with pytest.raises(services.GateRefused):
        sign(request, kim)
    assert not Decision.objects.exists()


# --- separation of duties: whoever prepared the material does not decide -----------------


def test_a_person_who_prepared_the_material_may_not_sign_it(core_org):
    kim, lo = core_org["users"]["kim"], core_org["users"]["lo"]
    request = _compile(_open(core_org), prepared_by=kim)
    material_open(kim, request)
    with pytest.raises(services.GateRefused) as exc:
        sign(request, kim)
    assert exc.value.code == rules.DECISION_SIGNER_PREPARED_MATERIAL
    material_open(lo, request)
    assert sign(request, lo).signer == lo


def test_human_staff_of_another_unit_cannot_enter_a_supplement(core_org, org):
    case = _open(core_org)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.RETURNED)
    with pytest.raises(services.ServiceError):
        services.supplement_receive(
            case_id=case.pk, raw_body="{}", data={"amount": 1}, received_by=org["users"]["anna"]
        )
    assert Staff.objects.get(user=org["users"]["anna"]).unit != core_org["unit"]


def test_catalogue_shows_the_share_the_robot_settled_alone(core_org, exceptions):
    """Operators see the automation rate of a service process: cases with no person / all."""
    from approvals.operations import process_catalogue

    alone = _open(core_org, process=exceptions.slug, ref="t-alone")
    services.case_complete_by_robot(case_id=alone.pk, step="x", outcome="done", data={})
    request = _compile(
        _open(core_org, process=exceptions.slug, ref="t-person"),
        kind=ApprovalRequest.Kind.EXCEPTION,
    )
    services.exception_settle(
        request_id=request.pk, user=core_org["users"]["kim"], action="done_by_hand", reason="x"
    )
    row = next(p for p in process_catalogue(now=timezone.now()) if p.slug == exceptions.slug)
    assert (row.completed_total, row.completed_by_robot, row.automation_rate) == (2, 1, 0.5)
