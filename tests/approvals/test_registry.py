"""The registry: discovered at start-up, checked, and listed to people and machines."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from approvals.checks import process_declarations_consistent
from approvals.registry import DecisionMode, Templates, Trigger, registry
from tests.core_process.process import core_spec


def _check_ids(spec) -> set[str]:
    registry.register(spec)
    try:
        return {e.id for e in process_declarations_consistent(None) if spec.slug in e.msg}
    finally:
        registry.unregister(spec.slug)


def test_bistand_is_discovered_from_its_package():
    """Nothing names the process: its package's process.py is found when Django starts."""
    spec = registry["ekonomiskt-bistand"]
    assert spec.package == "flows.ekonomiskt_bistand"
    assert spec.public_authority and spec.decision_mode == DecisionMode.HUMAN


def test_the_shipped_declarations_pass_the_checks():
    assert process_declarations_consistent(None) == []


def test_the_test_process_passes_the_checks():
    assert _check_ids(core_spec(slug="core-test-ok")) == set()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"decision_mode": DecisionMode.AUTOMATIC}, "approvals.E011"),
        ({"decision_mode": DecisionMode.EXCEPTIONS}, "approvals.E011"),
        ({"decision_mode": "sometimes"}, "approvals.E010"),
        ({"decision_types": ()}, "approvals.E012"),
        ({"triggers": ("carrier-pigeon",)}, "approvals.E015"),
        ({"application_schema": None}, "approvals.E016"),
        ({"triggers": (Trigger.SCHEDULE,)}, "approvals.E017"),
        ({"templates": Templates(material="core-test/nowhere.html")}, "approvals.E018"),
        ({"templates": Templates()}, "approvals.E019"),
        ({"application_schema": "tests.core_process.schemas:Nothing"}, "approvals.E020"),
        ({"flow": "tests.core_process.flow:missing"}, "approvals.E021"),
    ],
    ids=[
        "public-authority-automatic",
        "public-authority-exceptions",
        "unknown-mode",
        "no-decision-type",
        "unknown-trigger",
        "api-without-schema",
        "schedule-without-cron",
        "template-missing",
        "no-material-template",
        "schema-missing",
        "deployment-missing",
    ],
)
def test_an_inconsistent_declaration_fails_start_up(changes, error):
    """Each contradiction is a system check error (manage.py check fails start-up)."""
    assert error in _check_ids(core_spec(slug="core-test-bad", **changes))


def test_processes_command_lists_bistand_as_json():
    out = StringIO()
    call_command("processes", "--json", stdout=out)
    listed = {p["slug"]: p for p in json.loads(out.getvalue())}
    bistand = listed["ekonomiskt-bistand"]
    assert bistand["public_authority"] is True
    assert bistand["decision_mode"] == "human"
    assert bistand["triggers"] == ["api"]
    assert [d["code"] for d in bistand["decision_types"]] == ["ekonomiskt-bistand.beslut"]
    assert {o["code"] for o in bistand["decision_types"][0]["outcomes"]} == {
        "approved",
        "partly_approved",
        "refused",
        "returned",
    }


def test_processes_command_prints_a_line_per_process():
    out = StringIO()
    call_command("processes", stdout=out)
    assert "ekonomiskt-bistand:" in out.getvalue() and "myndighetsutövning" in out.getvalue()


@pytest.mark.django_db
def test_processes_api_needs_an_integration_token(client, org, token):
    assert client.get("/api/v1/processes/").status_code == 401
    response = client.get("/api/v1/processes/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    slugs = [p["slug"] for p in response.json()]
    assert "ekonomiskt-bistand" in slugs


@pytest.mark.django_db
def test_openapi_offers_one_body_schema_per_process(client, register_process):
    """The intake body is a oneOf of every API process's own schema."""
    register_process(core_spec(slug="core-test"))
    schema = client.get("/api/v1/openapi.json").json()
    options = schema["components"]["schemas"]["Application"]["oneOf"]
    assert {"$ref": "#/components/schemas/ApplicationV1"} in options
    assert {"$ref": "#/components/schemas/TestApplication"} in options
