"""Cases of the test-only process (tests/core_process), opened and compiled as a robot would.

The core's tests build their cases with these instead of a real robot, so that a rule
change in a real process (bistånd's amounts, its letters) breaks only that process's
tests. A case is opened through `services.application_receive` and its material
compiled through `services.material_compile`, exactly the services every robot uses.
"""

import json

from approvals import services
from approvals.models import ApprovalRequest, Case, Decision
from tests.core_process.process import SLUG

APPLICANT = {"personnummer": "198507099805", "name": "Vera Vikström"}
PROPOSED = 4000


# The flow run every test case is started under (as tests/gate_helpers.py's FLOW_RUN_ID).
FLOW_RUN_ID = "00000000-0000-0000-0000-000000000000"


def core_open(
    core_org, *, process=SLUG, ref="t-1", amount=PROPOSED, applicant=None, started=True
) -> Case:
    """A new case of the test process, received from its integration account; `started`:
    its flow run has begun (so resumes after a signature can be delivered to it)."""
    payload = {
        "process": process,
        "external_ref": ref,
        "applicant": applicant or APPLICANT,
        "amount": amount,
    }
    case, created = services.application_receive(
        raw_body=json.dumps(payload),
        application=payload,
        received_by=core_org["users"]["core-system"],
    )
    assert created
    if started:
        services.case_flow_started(case_id=case.pk, flow_run_id=FLOW_RUN_ID)
        case.refresh_from_db()
    return case


def core_compile(
    case, *, amount=PROPOSED, kind=ApprovalRequest.Kind.DECISION, prepared_by=None, flags=()
) -> ApprovalRequest:
    """The robot's next material version for `case`, with an open request at the gate."""
    opened = services.material_compile(
        case_id=case.pk,
        version=case.materials.count() + 1,
        context={"proposal": {"amount": amount}},
        proposal={"amount": amount},
        flags=list(flags),
        ruleset_version="test-1",
        authority_amount=amount,
        summary=f"{amount} kr",
        compiled_by="robot:core-test/compile",
        request_kind=kind,
        prepared_by=prepared_by,
    )
    return ApprovalRequest.objects.select_related("case", "material").get(pk=opened.request_id)


def core_carry_out(decision, *, attempt_key="k") -> Decision:
    """Verify `decision` and execute it with the test process's document (case closed)."""
    from tests.gate_helpers import verify

    verify(decision, attempt_key=attempt_key)
    services.decision_execute(decision_id=decision.pk, document_context={})
    decision.refresh_from_db()
    return decision
