"""Drive a roster case in-process, as the request page and the flow's tasks would."""

from approvals import services
from approvals.models import ApprovalRequest
from flows.schemalaggning import steps
from flows.schemalaggning.inputs import input_load
from flows.schemalaggning.process import PROCESS

TINY = "hemtjanst-norr-2027-v1-liten"  # 3 staff, one week: CP-SAT proves optimality in < 1 s
FLOW_RUN_ID = "00000000-0000-0000-0000-000000000000"


def roster_case_open(org, *, key: str = TINY, ref: str | None = None, user: str = "elin"):
    """What the request page does for the manager: the unit's input becomes a case."""
    chosen, _raw, data = input_load(PROCESS.unit_code, key)
    payload = {"unit": PROCESS.unit_code, "input": chosen.key, "roster": data}
    case, _ = services.case_open(
        spec=PROCESS,
        external_ref=ref or f"{key}-1",
        raw_body="{}",
        payload=payload,
        opened_by=org["users"][user],
    )
    return case


def roster_compile(case) -> ApprovalRequest:
    """The flow's steps up to the gate: started, proposed (CP-SAT), material compiled."""
    steps.case_started(case_id=case.pk, flow_run_id=FLOW_RUN_ID)
    opened = steps.material_prepare(case_id=case.pk, version=1, flow_run_id="test")
    return ApprovalRequest.objects.select_related("material", "case").get(pk=opened.request_id)


def first_shift_of(material, staff: str) -> tuple[int, dict]:
    shifts = material.proposal["shifts"]
    index = next(i for i, s in enumerate(shifts) if s["staff"] == staff)
    return index, shifts[index]


def overlapping_move(material) -> tuple[int, str]:
    """A shift index and a person who already works at that time: moving it is an overlap."""
    shifts = material.proposal["shifts"]
    for i, shift in enumerate(shifts):
        for other in shifts:
            if other["staff"] != shift["staff"] and other["start"] == shift["start"]:
                return i, other["staff"]
    raise AssertionError("no two people share a shift time in the proposal")
