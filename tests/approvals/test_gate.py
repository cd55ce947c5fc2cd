"""The legal gate: every way around the human signature fails and writes nothing."""

import pytest

from approvals import rules, services
from approvals.models import AuditEvent, Decision, PrefectCommand


def _view(user, request):
    services.case_access_record(user=user, case=request.case, what="material", material=request.material)


def _sign(request, user, **kwargs):
    params = {
        "request_id": request.pk,
        "user": user,
        "outcome": "approved",
        "motivation": "",
        "shown_material_sha256": request.material.sha256,
    }
    params.update(kwargs)
    return services.decision_sign(**params)


def _refused(request, user, code, **kwargs):
    decisions, commands = Decision.objects.count(), PrefectCommand.objects.count()
    with pytest.raises(services.GateRefused) as exc:
        _sign(request, user, **kwargs)
    assert exc.value.code == code
    assert Decision.objects.count() == decisions
    assert PrefectCommand.objects.count() == commands
    request.refresh_from_db()
    assert request.status == "open"


@pytest.mark.django_db
def test_caseworker_with_delegation_signs_after_opening_material(open_request, org):
    """A delegated caseworker who opened the material signs; the resume is queued with ids only."""
    anna = org["users"]["anna"]
    _view(anna, open_request)
    decision = _sign(open_request, anna)
    assert decision.signer == anna
    assert decision.material_sha256 == open_request.material.sha256
    assert decision.amount == open_request.proposed_amount
    command = PrefectCommand.objects.get(kind="resume")
    assert set(command.payload["run_input"]) == {"request_id", "decision_id", "material_sha256"}
    assert AuditEvent.objects.filter(kind="decision.signed", case=open_request.case).count() == 1


@pytest.mark.django_db
def test_integration_account_cannot_sign(open_request, org):
    """An integration account is refused even with a permission grant."""
    etjanst = org["users"]["etjanst"]
    _refused(open_request, etjanst, rules.DECISION_SIGNER_NOT_HUMAN)


@pytest.mark.django_db
def test_signing_without_opening_material_is_refused(open_request, org):
    """A signature without a recorded view of the material is refused."""
    _refused(open_request, org["users"]["anna"], rules.DECISION_MATERIAL_NOT_OPENED)


@pytest.mark.django_db
def test_stale_material_hash_is_refused(open_request, org):
    """A hash other than the current material's is refused as stale."""
    anna = org["users"]["anna"]
    _view(anna, open_request)
    _refused(open_request, anna, rules.DECISION_MATERIAL_STALE, shown_material_sha256="0" * 64)


@pytest.mark.django_db
def test_superuser_without_delegation_cannot_sign(open_request, org, django_user_model):
    """A superuser flag grants nothing: no unit grant, no delegation, no signature."""
    from municipality.models import Staff

    boss = django_user_model.objects.create_superuser("boss", password="x")
    Staff.objects.create(user=boss, kind=Staff.Kind.HUMAN, role=Staff.Role.CASEWORKER)
    _view(boss, open_request)
    _refused(open_request, boss, rules.DECISION_SIGNER_NO_ACCESS)


@pytest.mark.django_db
def test_double_submit_makes_one_decision(open_request, org):
    """Signing an already decided request is refused; exactly one decision exists."""
    anna = org["users"]["anna"]
    _view(anna, open_request)
    _sign(open_request, anna)
    with pytest.raises(services.GateRefused) as exc:
        _sign(open_request, anna)
    assert exc.value.code == rules.DECISION_REQUEST_NOT_OPEN
    assert Decision.objects.filter(request=open_request).count() == 1
