"""The bistånd robot steps compare with registers, the population register and last month's decision."""

import copy

import pytest

from tests.conftest import compile_case, demo_application, receive
from tests.gate_helpers import carry_out, decide

pytestmark = pytest.mark.django_db


def test_change_since_last_decision_is_flagged(org):
    """Next month's material flags incomes that changed since the last executed decision."""
    february = demo_application("etj-2026-000101")
    february.update(external_ref="etj-2026-000001", period="2026-02")
    carry_out(decide(compile_case(receive(org, february)), org["users"]["anna"]))

    march = compile_case(receive(org, copy.deepcopy(demo_application("etj-2026-000101"))))
    changed = [f for f in march.material.flags if f["code"] == "INCOME_CHANGED_SINCE_LAST_DECISION"]
    assert changed, march.material.flags
    assert any(f["income_type"] == "housing_allowance" for f in changed)


def test_first_application_has_no_last_decision_flags(open_request):
    """Without an earlier decision nothing is compared with 'last month'."""
    codes = {f["code"] for f in open_request.material.flags}
    assert "INCOME_CHANGED_SINCE_LAST_DECISION" not in codes


def test_household_differing_from_population_register_is_flagged(org):
    """An adult registered at the address but not declared is flagged, without their number."""
    request = compile_case(receive(org, demo_application("etj-2026-000104")))
    flags = [f for f in request.material.flags if f["code"] == "HOUSEHOLD_DIFFERS"]
    assert flags
    registered = request.case.register_snapshots.get().data["household"]
    for member in registered:
        assert member["personnummer"] not in " ".join(f["text"] for f in flags)


def test_robot_steps_are_on_the_trail_in_readable_form(open_request):
    """Each robot step records its inputs and outputs on the case's audit trail."""
    steps = {e.data["step"]: e.data for e in open_request.case.events.filter(kind="robot.step")}
    assert {"mark-started", "gather-register-data", "compute-proposal"} <= set(steps)
    assert steps["compute-proposal"]["outputs"]["proposed_amount"] == open_request.authority_amount
    assert steps["gather-register-data"]["inputs"]["control_month"] == "2026-02"


def test_unknown_register_income_type_is_flagged(org):
    """An income type the rules do not know (foreign pension) is shown for the caseworker to judge."""
    application = demo_application("etj-2026-000101")
    application.update(external_ref="etj-2026-000109")
    application["applicant"] = {"personnummer": "195805133138", "name": "Göran Lund"}
    request = compile_case(receive(org, application))
    unknown = [f for f in request.material.flags if f["code"] == "UNKNOWN_INCOME_TYPE"]
    assert unknown and "foreign_pension" in unknown[0]["text"]


@pytest.mark.parametrize("name", ["etj-2026-000101", "etj-2026-000102", "etj-2026-000105"])
def test_household_matching_the_register_raises_no_household_warning(org, name):
    """A household declared as registered gives no household warning (spouse/sambo is info only)."""
    request = compile_case(receive(org, demo_application(name)))
    warnings = [
        f
        for f in request.material.flags
        if f["code"] == "HOUSEHOLD_DIFFERS" and f["severity"] == "warning"
    ]
    assert warnings == []
