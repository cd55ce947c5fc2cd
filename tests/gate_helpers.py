"""Drive the legal gate in-process, as the case page and the flow would.

A caseworker opens the material (`material_open`) and signs (`sign`, or both at once
with `decide`); after the resume the flow re-checks the stored decision (`verify`) and
carries it out (`carry_out`, bistånd's flow step; tests/approvals/core_helpers.py has
the test process's `core_carry_out`). Modules with other defaults pass them explicitly.

Signing needs a recent authentication (municipality.authentication). `sign` passes
explicit evidence (a password login just now) unless told otherwise; page tests log in
with `login_fresh`, which records the same evidence in the test client's session.
Django's `force_login` alone records none: such a session reads, but cannot sign.
"""

from django.utils import timezone

from approvals import rules, services
from municipality.authentication import authentication_store

# The flow run that compile_case (tests/conftest.py) starts every case under.
FLOW_RUN_ID = "00000000-0000-0000-0000-000000000000"


def material_open(user, request):
    """`user` opens the request's material: the read the gate requires before a signature."""
    return services.case_access_record(
        user=user, case=request.case, what="material", material=request.material
    )


def fresh_authentication(method: str = rules.AUTH_PASSWORD, *, at=None) -> rules.Authentication:
    """Evidence of a login just now (or at `at`): what the gate needs to accept a signature."""
    return rules.Authentication(method=method, at=at or timezone.now())


def login_fresh(client, user, *, method: str = rules.AUTH_PASSWORD, at=None) -> None:
    """Log `user` in on the test client with a recent authentication recorded in the session
    (what the login page does; tests/oidc drive the real login pages themselves)."""
    client.force_login(user)
    session = client.session
    authentication_store(session, method=method, at=at or timezone.now())
    session.save()


def sign(request, user, **overrides):
    """`user` signs `request` on the material shown; approved without motivation by default."""
    params = {
        "request_id": request.pk,
        "user": user,
        "outcome": "approved",
        "motivation": "",
        "shown_material_sha256": request.material.sha256,
        "authentication": fresh_authentication(),
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
