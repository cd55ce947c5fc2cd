"""The intake API: valid input starts a case once; bad input gets an error per field and starts nothing."""

import json

import pytest

from approvals.models import Case, PrefectCommand, RejectedSubmission

URL = "/api/v1/applications/"
pytestmark = pytest.mark.django_db


def test_valid_application_creates_case_and_queues_flow_start(org, api_post, application):
    """A valid application is stored verbatim and a flow start is queued for it."""
    response = api_post(URL, json.dumps(application, indent=1))
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert case.raw_body == json.dumps(application, indent=1)
    assert body["status_url"].endswith(f"/api/v1/applications/{case.pk}/")
    command = PrefectCommand.objects.get(case=case)
    assert command.kind == "start" and command.payload == {"case_id": case.pk}


def test_same_external_ref_twice_returns_existing_case(org, api_post, application):
    """The same application sent twice makes one case; the repeat answers 200 with it."""
    first = api_post(URL, application)
    second = api_post(URL, application)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Case.objects.count() == 1


def test_same_external_ref_with_other_content_is_conflict(org, api_post, application):
    """A different body under a known external_ref is refused and overwrites nothing."""
    api_post(URL, application)
    application["costs"]["rent"] += 1
    response = api_post(URL, application)
    assert response.status_code == 409
    assert Case.objects.get().payload["costs"]["rent"] == application["costs"]["rent"] - 1


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda a: a["applicant"].update(personnummer="199107012389"), "applicant.personnummer"),
        (lambda a: a["applicant"].update(personnummer="199102302388"), "applicant.personnummer"),
        (lambda a: a["applicant"].update(personnummer="19910701-000"), "applicant.personnummer"),
        (lambda a: a["costs"].update(rent=-1), "costs.rent"),
        (lambda a: a["costs"].update(rent=12.5), "costs.rent"),
        (lambda a: a["costs"].update(rent="6450"), "costs.rent"),
        (lambda a: a["incomes"].update(bonus=100), "incomes.bonus"),
        (lambda a: a.update(nickname="x"), "nickname"),
        (lambda a: a.update(period="2026-13"), "period"),
        (lambda a: a.update(process="bygglov"), "process"),
    ],
)
def test_invalid_fields_get_an_error_each_and_start_nothing(
    org, api_post, application, mutate, field
):
    """Each kind of bad input is named by its field path; no case, no flow start, body kept."""
    mutate(application)
    response = api_post(URL, application)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Case.objects.count() == 0 and PrefectCommand.objects.count() == 0
    assert RejectedSubmission.objects.get().raw_body == json.dumps(application)


def test_malformed_json_is_400(org, api_post):
    """Malformed JSON is refused with a message about the body."""
    response = api_post(URL, '{"process": ')
    assert response.status_code == 400
    assert "Malformed JSON" in response.json()["errors"]["body"][0]


def test_oversized_body_is_413(org, api_post, application, settings):
    """A body above the limit is refused before parsing."""
    settings.APPLICATION_MAX_BYTES = 1000
    application["message"] = "x" * 2000
    assert api_post(URL, application).status_code == 413
    assert Case.objects.count() == 0


def test_child_older_than_twenty_is_refused(org, api_post, application):
    """A 'child' who is over 20 in the period is refused at the edge."""
    application["children"] = [{"personnummer": "199107012388", "lunch_outside_home": False}]
    application["applicant"]["personnummer"] = "198112189876"
    response = api_post(URL, application)
    assert response.status_code == 400
    assert "children[0] is not 0–20 years old" in json.dumps(response.json(), ensure_ascii=False)


@pytest.mark.parametrize("auth", [None, "wrong-token"])
def test_missing_or_wrong_token_is_401(org, api_post, application, auth):
    """Without a valid integration token nothing is accepted."""
    assert api_post(URL, application, auth=auth).status_code == 401
    assert Case.objects.count() == 0


def test_token_of_a_human_account_is_refused(org, api_post, application):
    """A token issued to a human caseworker does not authorise intake."""
    from municipality.models import ApiToken

    ApiToken.objects.create(
        user=org["users"]["anna"], name="x", token_sha256=ApiToken.hash("human-token")
    )
    assert api_post(URL, application, auth="human-token").status_code == 401


def test_openapi_schema_documents_application(client):
    """The served OpenAPI schema contains the application model and the endpoint."""
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/applications/" in schema["paths"]
    props = schema["components"]["schemas"]["ApplicationV1"]["properties"]
    assert {"applicant", "costs", "incomes", "period", "external_ref"} <= set(props)


def test_status_is_visible_only_to_submitting_account(org, api_post, application, client):
    """The status URL answers the submitting account and 404s for other accounts."""
    case_id = api_post(URL, application).json()["id"]
    assert (
        client.get(
            f"{URL}{case_id}/", headers={"Authorization": "Bearer rf_demo_etjanst_token_2026"}
        ).status_code
        == 200
    )
    from municipality.models import ApiToken, Staff

    other = type(org["users"]["etjanst"]).objects.create(username="other-system")
    Staff.objects.create(user=other, kind=Staff.Kind.INTEGRATION, role=Staff.Role.SYSTEM)
    ApiToken.objects.create(user=other, name="o", token_sha256=ApiToken.hash("other"))
    assert (
        client.get(f"{URL}{case_id}/", headers={"Authorization": "Bearer other"}).status_code == 404
    )
