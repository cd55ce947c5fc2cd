"""A second application for a month already decided or open is held for review (issue 9, point 4)."""

import copy

import pytest

from approvals import rules, services
from approvals.models import Decision
from tests.conftest import compile_case, demo_application, receive
from tests.gate_helpers import carry_out, decide

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]


def _second(application: dict) -> dict:
    again = copy.deepcopy(application)
    again["external_ref"] = application["external_ref"] + "-again"
    return again


def test_a_second_application_for_a_decided_month_is_flagged_first(org):
    first = demo_application()
    carry_out(decide(compile_case(receive(org, first)), org["users"]["anna"]))
    second = compile_case(receive(org, _second(first)))
    flag = second.material.flags[0]
    assert flag["code"] == "duplicate_period" and flag["requires_acknowledgement"]
    assert first["external_ref"] in flag["text"] and "2026-03" in flag["text"]


def test_the_signer_must_acknowledge_the_hold(org):
    """Without confirming the flag the gate refuses; with it, the decision is recorded."""
    first = demo_application()
    compile_case(receive(org, first))
    second = compile_case(receive(org, _second(first)))
    anna = org["users"]["anna"]
    with pytest.raises(services.GateRefused) as exc:
        decide(second, anna)
    assert exc.value.code == rules.DECISION_FLAGS_NOT_ACKNOWLEDGED
    assert not Decision.objects.filter(request=second).exists()
    decision = decide(second, anna, acknowledged_flags=["duplicate_period"])
    assert decision.outcome == "approved"


def test_the_api_answer_says_the_case_is_held(org, api_post):
    first = demo_application()
    assert api_post("/api/v1/applications/", first).status_code == 201
    response = api_post("/api/v1/applications/", _second(first))
    assert response.status_code == 201
    assert [f["code"] for f in response.json()["flags"]] == ["duplicate_period"]


def test_another_month_is_not_flagged(org, api_post):
    first = demo_application()
    api_post("/api/v1/applications/", first)
    april = _second(first)
    april["period"] = "2026-04"
    assert api_post("/api/v1/applications/", april).json()["flags"] == []
