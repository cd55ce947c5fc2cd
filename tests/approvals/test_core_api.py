"""The intake API with the test-only process: valid input starts a case once; bad input
gets an error per field and starts nothing; only integration tokens get in.

The body is the test process's own schema (tests/core_process/schemas.py), chosen by its
`process` field. Bistånd's fields (costs, incomes, children) are tested in
tests/flows/ekonomiskt_bistand/test_api.py.
"""

import json

import pytest

from approvals.models import Case, PrefectCommand, RejectedSubmission
from municipality.models import ApiToken, Staff
from tests.core_process.process import SLUG

from .core_helpers import APPLICANT

URL = "/api/v1/applications/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def body():
    return {"process": SLUG, "external_ref": "t-api-1", "applicant": dict(APPLICANT), "amount": 900}


@pytest.fixture
def post(core_org, api_post):
    """POST with the test process's integration token (core_org's core-system account)."""

    def send(path, data, *, auth=core_org["token"]):
        return api_post(path, data, auth=auth)

    return send


def test_valid_application_creates_case_and_queues_flow_start(post, body):
    """A valid application is stored verbatim and a flow start is queued for it."""
    response = post(URL, json.dumps(body, indent=1))
    assert response.status_code == 201, response.content
    answer = response.json()
    case = Case.objects.get(pk=answer["id"])
    assert case.process == SLUG and case.raw_body == json.dumps(body, indent=1)
    assert answer["status_url"].endswith(f"/api/v1/applications/{case.pk}/")
    command = PrefectCommand.objects.get(case=case)
    assert command.kind == "start" and command.payload == {"case_id": case.pk}


def test_same_external_ref_twice_returns_existing_case(post, body):
    """The same application sent twice makes one case; the repeat answers 200 with it."""
    first, second = post(URL, body), post(URL, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Case.objects.count() == 1


def test_same_external_ref_with_other_content_is_conflict(post, body):
    """A different body under a known external_ref is refused and overwrites nothing."""
    post(URL, body)
    body["amount"] += 1
    assert post(URL, body).status_code == 409
    assert Case.objects.get().payload["amount"] == 900


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["applicant"].update(personnummer="198507099806"), "applicant.personnummer"),
        (lambda b: b["applicant"].update(personnummer="19850709-980"), "applicant.personnummer"),
        (lambda b: b.update(amount=-1), "amount"),
        (lambda b: b.update(amount=12.5), "amount"),
        (lambda b: b.update(amount="900"), "amount"),
        (lambda b: b.update(nickname="x"), "nickname"),
        (lambda b: b.update(external_ref="has space"), "external_ref"),
        (lambda b: b.update(process="bygglov"), "process"),
    ],
)
def test_invalid_fields_get_an_error_each_and_start_nothing(post, body, mutate, field):
    """Each kind of bad input is named by its field path; no case, no flow start, body kept."""
    mutate(body)
    response = post(URL, body)
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert Case.objects.count() == 0 and PrefectCommand.objects.count() == 0
    assert RejectedSubmission.objects.get().raw_body == json.dumps(body)


def test_malformed_json_is_400(post):
    response = post(URL, '{"process": ')
    assert response.status_code == 400
    assert "Malformed JSON" in response.json()["errors"]["body"][0]


def test_oversized_body_is_413(post, body, settings):
    """A body above the limit is refused before parsing."""
    settings.APPLICATION_MAX_BYTES = 1000
    body["applicant"]["name"] = "x" * 2000
    assert post(URL, body).status_code == 413
    assert Case.objects.count() == 0


@pytest.mark.parametrize("auth", [None, "wrong-token"])
def test_missing_or_wrong_token_is_401(post, body, auth):
    assert post(URL, body, auth=auth).status_code == 401
    assert Case.objects.count() == 0


def test_token_of_a_human_account_is_refused(post, body, core_org):
    """A token issued to a human caseworker does not authorise intake."""
    ApiToken.objects.create(
        user=core_org["users"]["kim"], name="x", token_sha256=ApiToken.hash("human-token")
    )
    assert post(URL, body, auth="human-token").status_code == 401
    assert Case.objects.count() == 0


def test_status_is_visible_only_to_submitting_account(post, body, client, core_org):
    """The status URL answers the submitting account and 404s for other accounts."""
    case_id = post(URL, body).json()["id"]
    mine = client.get(f"{URL}{case_id}/", headers={"Authorization": f"Bearer {core_org['token']}"})
    assert mine.status_code == 200
    other = type(core_org["users"]["kim"]).objects.create(username="other-system")
    Staff.objects.create(user=other, kind=Staff.Kind.INTEGRATION, role=Staff.Role.SYSTEM)
    ApiToken.objects.create(user=other, name="o", token_sha256=ApiToken.hash("other"))
    theirs = client.get(f"{URL}{case_id}/", headers={"Authorization": "Bearer other"})
    assert theirs.status_code == 404


def test_openapi_schema_documents_the_test_application(client, core_org):
    """The served OpenAPI schema carries the test process's body model and the endpoint."""
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/applications/" in schema["paths"]
    props = schema["components"]["schemas"]["TestApplication"]["properties"]
    assert {"process", "external_ref", "applicant", "amount"} <= set(props)


def test_processes_api_lists_the_test_process(client, core_org):
    """GET /api/v1/processes/ lists the registered test process with its declaration."""
    response = client.get(
        "/api/v1/processes/", headers={"Authorization": f"Bearer {core_org['token']}"}
    )
    assert response.status_code == 200
    [listed] = [p for p in response.json() if p["slug"] == SLUG]
    assert (listed["public_authority"], listed["decision_mode"]) == (True, "human")
    assert listed["triggers"] == ["api"]
    assert [d["code"] for d in listed["decision_types"]] == ["core-test.beslut"]
