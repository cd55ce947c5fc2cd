"""Bad input gets a clear error in one shape and loses nothing (issue 10, point 8)."""

import json

import pytest

from approvals.models import Case, RejectedSubmission
from tests.core_process.process import SLUG

pytestmark = pytest.mark.django_db

GOOD = {
    "process": SLUG,
    "external_ref": "t-bad",
    "applicant": {"personnummer": "198507099805", "name": "Test Testsson"},
    "amount": 10,
}


@pytest.fixture
def post(client, core_org):
    def send(body, content_type="application/json"):
        headers = {"Authorization": f"Bearer {core_org['token']}"}
        return client.post(
            "/api/v1/applications/", data=body, content_type=content_type, headers=headers
        )

    return send


def _refused(response, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    errors = response.json()["errors"]
    assert errors and all(isinstance(v, list) and v for v in errors.values())
    assert not Case.objects.exists()
    return errors


def test_a_body_of_one_nul_byte_is_refused_and_kept(post):
    _refused(post(b"\x00"))
    assert RejectedSubmission.objects.get().raw_body == "\\x00"


def test_deeply_nested_json_is_refused(post):
    _refused(post("[" * 100_000 + "]" * 100_000))


def test_a_five_thousand_digit_integer_is_refused(post):
    _refused(post('{"amount": ' + "9" * 5000 + "}"))


def test_a_nul_inside_a_name_is_refused_at_its_path(post):
    body = {**GOOD, "applicant": {**GOOD["applicant"], "name": "Test\x00Testsson"}}
    errors = _refused(post(json.dumps(body)))
    assert "applicant.name" in errors
    assert "Test\\u0000Testsson" in RejectedSubmission.objects.get().raw_body  # kept as received


def test_duplicate_keys_are_refused(post):
    raw = json.dumps(GOOD)[:-1] + ', "amount": 999999}'
    assert "appears twice" in _refused(post(raw))["body"][0]


def test_full_width_digits_in_a_period_are_refused(post, org, token, client):
    from tests.conftest import demo_application

    application = demo_application()
    application["period"] = "２０２６-03"
    response = client.post(
        "/api/v1/applications/",
        data=json.dumps(application),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert "period" in _refused(response)


def test_a_ten_megabyte_body_is_413_json(post):
    _refused(post(b"{" + b" " * 10_000_000 + b"}"), status=413)
    assert RejectedSubmission.objects.get().truncated


def test_a_case_number_that_is_no_number_is_422_in_the_same_shape(client, core_org):
    response = client.get(
        "/api/v1/applications/abc/", headers={"Authorization": f"Bearer {core_org['token']}"}
    )
    assert response.status_code in (404, 422)
    assert "errors" in response.json()


def test_the_schema_documents_refusals_and_patterns(client):
    schema = client.get("/api/v1/openapi.json").json()
    create = schema["paths"]["/api/v1/applications/"]["post"]["responses"]
    assert {"400", "401", "409", "413"} <= set(create)
    status = schema["paths"]["/api/v1/applications/{case_id}/"]["get"]["responses"]
    assert {"401", "404", "422"} <= set(status)
    person = schema["components"]["schemas"]["Person"]["properties"]["personnummer"]
    assert person["pattern"].startswith("^")
    period = schema["components"]["schemas"]["ApplicationV1"]["properties"]["period"]
    assert period["pattern"] == "^[0-9]{4}-(0[1-9]|1[0-2])$"
