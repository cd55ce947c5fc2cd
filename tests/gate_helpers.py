"""Drive the legal gate in-process, as the case page and the flow would.

A caseworker opens the material (`material_open`) and signs (`sign`, or both at once
with `decide`); after the resume the flow re-checks the stored decision (`verify`) and
carries it out (`carry_out`, bistånd's flow step; tests/approvals/core_helpers.py has
the test process's `core_carry_out`). Modules with other defaults pass them explicitly.
"""

from approvals import services

# The flow run that compile_case (tests/conftest.py) starts every case under.
FLOW_RUN_ID = "00000000-0000-0000-0000-000000000000"


def material_open(user, request):
    """`user` opens the request's material: the read the gate requires before a signature."""
    return services.case_access_record(
        user=user, case=request.case, what="material", material=request.material
    )


def sign(request, user, **overrides):
    """`user` signs `request` on the material shown; approved without motivation by default."""
    params = {
        "request_id": request.pk,
        "user": user,
        "outcome": "approved",
        "motivation": "",
        "shown_material_sha256": request.material.sha256,
        **overrides,
    }
    return services.decision_sign(**params)


def decide(request, user, **overrides):
    """Open the material, then sign: what a caseworker does on the case page."""
    material_open(user, request)
    return sign(request, user, **overrides)


def verify(decision, *, flow_run_id=FLOW_RUN_ID, attempt_key="k"):
    """The flow's re-check after resume, claiming exactly the stored decision."""
    return services.decision_verify_for_execution(
        request_id=decision.request_id,
        claimed_request_id=decision.request_id,
        decision_id=decision.pk,
        material_sha256=decision.material_sha256,
        flow_run_id=flow_run_id,
        attempt_key=attempt_key,
    )


def carry_out(decision, *, flow_run_id=FLOW_RUN_ID, attempt_key="k"):
    """Verify `decision`, then carry it out as the bistånd flow does (letter, case closed)."""
    # Imported here: the core's tests use this module without loading any real robot.
    from flows.ekonomiskt_bistand import steps as service

    verify(decision, flow_run_id=flow_run_id, attempt_key=attempt_key)
    service.decision_carry_out(decision_id=decision.pk, flow_run_id=flow_run_id)
    decision.refresh_from_db()
    return decision
