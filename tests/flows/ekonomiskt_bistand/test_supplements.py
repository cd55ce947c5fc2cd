"""Supplements after a return for completion: validated, kept, and applied to the next material."""

import pytest

from approvals import services
from approvals.models import Case, PrefectCommand, Supplement
from tests.conftest import compile_case
from tests.gate_helpers import carry_out, decide

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]


@pytest.fixture
def returned_case(open_request, org):
    decision = decide(
        open_request, org["users"]["anna"], outcome="returned", motivation="Barn saknas."
    )
    carry_out(decision)
    case = Case.objects.get(pk=open_request.case_id)
    assert case.status == Case.Status.RETURNED
    return case


def test_supplement_before_a_return_is_refused(open_request, api_post):
    """A case that is not waiting for completion takes no supplement; nothing is stored."""
    response = api_post(
        f"/api/v1/applications/{open_request.case_id}/supplements/", {"message": "Här."}
    )
    assert response.status_code == 409
    assert not Supplement.objects.exists()


def test_supplement_with_unknown_field_is_400(returned_case, api_post):
    """Supplements are validated like applications: unknown fields are refused."""
    response = api_post(f"/api/v1/applications/{returned_case.pk}/supplements/", {"pets": 2})
    assert response.status_code == 400
    assert "pets" in response.json()["errors"]


def test_supplement_resumes_and_changes_household_and_material(returned_case, api_post):
    """An added child reaches the household, the registers and material version 2."""
    child = {"personnummer": "201306012384", "lunch_outside_home": True}
    response = api_post(
        f"/api/v1/applications/{returned_case.pk}/supplements/", {"children": [child]}
    )
    assert response.status_code == 202, response.content
    supplement = Supplement.objects.get(case=returned_case)
    command = PrefectCommand.objects.get(
        case=returned_case, kind="resume", payload__run_input__supplement_id=supplement.pk
    )
    assert command.payload["run_input"] == {
        "case_id": returned_case.pk,
        "supplement_id": supplement.pk,
    }

    services.supplement_verify(case_id=returned_case.pk, supplement_id=supplement.pk)
    returned_case.refresh_from_db()
    assert child["personnummer"] in services.party_personnummer(returned_case)
    request = compile_case(returned_case)
    assert request.material.version == 2
    roles = [m["role"] for m in request.material.proposal["household"]]
    assert roles.count("child") == 1
    assert returned_case.payload["children"] == []  # the original stays as received


def test_made_up_supplement_id_is_refused(returned_case):
    """A resume claim naming a supplement that does not exist for the case is refused."""
    with pytest.raises(services.ServiceError) as exc:
        services.supplement_verify(case_id=returned_case.pk, supplement_id=424242)
    assert exc.value.code == services.SUPPLEMENT_UNKNOWN
