"""The certificate robot's steps, called by the flow's tasks.

Each takes ids, reads and writes Django, and returns ids or hashes: the employee's
name, personnummer and history never pass through Prefect.
"""

from __future__ import annotations

from django.utils import timezone

from approvals import services
from approvals.models import ApprovalRequest, Case, ExceptionSettlement

from .connectors import get_hr_connector
from .connectors.hr import EmployeeNotFound
from .issuing import certificate_issue
from .process import CLOSED, CORRECTED_AND_ISSUED, EXCEPTION_TYPE
from .rules import (
    FORMAT_VERSION,
    KIND_ARBETSGIVARINTYG,
    CertificateNotSettled,
    Finding,
    arbetsgivarintyg_content,
    certificate_content,
)
from .schemas import EMPLOYMENT_FORM_LABELS, END_REASON_LABELS

RULESET = f"anstallningsintyg-{FORMAT_VERSION}"
COMPILED_BY = "robot:anstallningsintyg/rules"
# A finding of the robot itself: the employee asked about is no longer in the HR system.
EMPLOYEE_NOT_IN_HR = "employee_not_in_hr"

SETTLEMENT_UNKNOWN = "SETTLEMENT_UNKNOWN"
SETTLEMENT_OTHER_REQUEST = "SETTLEMENT_OTHER_REQUEST"


class SettlementNotVerified(Exception):
    """A resume claim that does not match a settlement stored in Django."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def case_started(*, case_id: int, flow_run_id: str) -> None:
    services.case_flow_started(case_id=case_id, flow_run_id=flow_run_id)
    services.robot_step_record(
        case_id=case_id,
        step="mark-started",
        inputs={"case": case_id},
        outputs={"status": "processing"},
        flow_run_id=flow_run_id,
    )


def _content(case: Case) -> tuple[dict | None, list[Finding], object | None]:
    """(content, [], employee) when the rules settle it; (None, findings, employee) otherwise."""
    payload = case.payload
    connector = get_hr_connector()
    employer = connector.employer()
    try:
        employee = connector.employee(payload["employee"]["id"])
    except EmployeeNotFound:
        return (
            None,
            [Finding(EMPLOYEE_NOT_IN_HR, "The employee is no longer in the HR system.")],
            None,
        )
    issued_on = timezone.localdate()
    try:
        if payload["kind"] == KIND_ARBETSGIVARINTYG:
            content = arbetsgivarintyg_content(
                employee,
                employer=employer,
                issued_on=issued_on,
                include_worked_time=payload.get("include_worked_time", False),
            )
        else:
            content = certificate_content(employee, employer=employer, issued_on=issued_on)
    except CertificateNotSettled as exc:
        return None, list(exc.findings), employee
    return content, [], employee


def _employments_shown(employee) -> list[dict]:
    """The HR data the officer compares the findings with, as the material shows it."""
    if employee is None:
        return []
    return [
        {
            "id": e.id,
            "position": e.position,
            "workplace": e.workplace,
            "form_label": EMPLOYMENT_FORM_LABELS[e.form],
            "start": e.start.isoformat(),
            "end": e.end.isoformat() if e.end else None,
            "extent_percent": e.extent_percent,
            "end_reason_label": END_REASON_LABELS[e.end_reason] if e.end_reason else None,
        }
        for e in sorted(employee.employments, key=lambda e: (e.start, e.id))
    ]


def rules_apply(*, case_id: int, version: int, flow_run_id: str) -> dict:
    """Write the certificate if the HR data settles it, else open exception `version`.

    Returns ids and hashes only: {"issued", "document_id", "document_sha256"} or
    {"issued": False, "request_id", "material_sha256"}.
    """
    case = Case.objects.get(pk=case_id)
    content, findings, employee = _content(case)
    if content is not None:
        verification = certificate_issue(case_id=case_id, content=content, flow_run_id=flow_run_id)
        services.robot_step_record(
            case_id=case_id,
            step="rules",
            inputs={"case": case_id, "version": version},
            outputs={"settled": True, "document_sha256": verification.document_sha256},
            flow_run_id=flow_run_id,
        )
        return {
            "issued": True,
            "document_id": verification.document_id,
            "document_sha256": verification.document_sha256,
        }
    codes = sorted({f.code for f in findings})
    opened = services.material_compile(
        case_id=case_id,
        version=version,
        context={
            "request": case.payload,
            "findings": [f.as_dict() for f in findings],
            "employments": _employments_shown(employee),
        },
        proposal={
            "kind": case.payload["kind"],
            "employee_id": case.payload["employee"]["id"],
            "findings": [f.as_dict() for f in findings],
        },
        flags=[{"text": f.message, "code": f.code} for f in findings],
        ruleset_version=RULESET,
        compiled_by=COMPILED_BY,
        summary=", ".join(codes),
        decision_type=EXCEPTION_TYPE,
        request_kind=ApprovalRequest.Kind.EXCEPTION,
    )
    services.robot_step_record(
        case_id=case_id,
        step="rules",
        inputs={"case": case_id, "version": version},
        outputs={"settled": False, "findings": codes, "request": opened.request_id},
        flow_run_id=flow_run_id,
    )
    return {
        "issued": False,
        "request_id": opened.request_id,
        "material_sha256": opened.material_sha256,
    }


def settlement_verify(*, request_id: int, claimed_request_id: int, settlement_id: int) -> str:
    """The settlement behind a resume claim, checked against Django; returns its action.

    The run input is a claim (anyone with Prefect's API can send one): only a stored
    settlement of this very exception request counts.
    """
    settlement = (
        ExceptionSettlement.objects.select_related("request").filter(pk=settlement_id).first()
    )
    if settlement is None:
        raise SettlementNotVerified(SETTLEMENT_UNKNOWN)
    if claimed_request_id != request_id or settlement.request_id != request_id:
        raise SettlementNotVerified(SETTLEMENT_OTHER_REQUEST)
    return settlement.action


def settlement_carry_out(*, case_id: int, settlement_id: int, flow_run_id: str) -> str:
    """Carry out a verified settlement: close the case, or let the rules run again."""
    settlement = ExceptionSettlement.objects.get(pk=settlement_id, request__case_id=case_id)
    services.robot_step_record(
        case_id=case_id,
        step="settlement",
        inputs={"case": case_id, "settlement": settlement_id},
        outputs={"action": settlement.action},
        flow_run_id=flow_run_id,
    )
    if settlement.action == CLOSED:
        services.case_complete_by_robot(
            case_id=case_id,
            step="close",
            outcome=CLOSED,
            data={"settlement": settlement_id, "flow_run": flow_run_id},
        )
        return CLOSED
    return CORRECTED_AND_ISSUED
