"""A request for a certificate becomes a case whose flow writes it (services.case_open).

The case's payload names the employee as the HR register does (id, personnummer, name),
so that the core's party hook, search and access log find them; the flow reads the
employment history from the HR connector when it runs, never from the request.
"""

from __future__ import annotations

import json
import uuid

from django.utils.translation import gettext_noop

from approvals import services

from .access import may_request_for_anyone, own_personnummer
from .connectors import get_hr_connector
from .connectors.hr import EmployeeNotFound, HRError
from .process import PROCESS
from .rules import KINDS

CHANNEL_SELF_SERVICE = "self_service"
CHANNEL_HR = "hr"

REQUEST_KIND_UNKNOWN = "REQUEST_KIND_UNKNOWN"
REQUEST_NOT_AN_EMPLOYEE = "REQUEST_NOT_AN_EMPLOYEE"
REQUEST_EMPLOYEE_UNKNOWN = "REQUEST_EMPLOYEE_UNKNOWN"
REQUEST_NOT_HR = "REQUEST_NOT_HR"
REQUEST_HR_UNAVAILABLE = "REQUEST_HR_UNAVAILABLE"


class CertificateRequestRefused(Exception):
    def __init__(self, code: str, message: str, *, field: str = "__all__") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def _payload(*, employee, kind: str, channel: str, user, include_worked_time: bool) -> dict:
    return {
        "kind": kind,
        "channel": channel,
        "include_worked_time": include_worked_time,
        "employee": {
            "id": employee.id,
            "personnummer": employee.personnummer,
            "name": employee.name,
        },
        "requested_by": user.get_username(),
    }


def certificate_request_open(
    *,
    user,
    kind: str,
    employee_id: str | None = None,
    include_worked_time: bool = False,
):
    """Open the case for one request; returns the case.

    Without `employee_id` the request is the user's own (self-service, found by the
    login's personnummer); with it, only HR staff may ask.
    """
    if kind not in KINDS:
        raise CertificateRequestRefused(
            REQUEST_KIND_UNKNOWN, gettext_noop("Unknown kind of certificate."), field="kind"
        )
    connector = get_hr_connector()
    try:
        if employee_id is None:
            personnummer = own_personnummer(user)
            # A login without a personnummer cannot be matched to anyone in HR.
            if personnummer is None:
                raise CertificateRequestRefused(
                    REQUEST_NOT_AN_EMPLOYEE,
                    gettext_noop("Your login is not linked to an employee."),
                )
            try:
                employee = connector.employee_for_personnummer(personnummer)
            except EmployeeNotFound:
                raise CertificateRequestRefused(
                    REQUEST_NOT_AN_EMPLOYEE,
                    gettext_noop("The HR system has no employee with your identity."),
                ) from None
            channel = CHANNEL_SELF_SERVICE
        else:
            # Only HR asks on someone else's behalf.
            if not may_request_for_anyone(user):
                raise CertificateRequestRefused(
                    REQUEST_NOT_HR,
                    gettext_noop("Only HR staff ask for other employees' certificates."),
                )
            try:
                employee = connector.employee(employee_id.strip())
            except EmployeeNotFound:
                raise CertificateRequestRefused(
                    REQUEST_EMPLOYEE_UNKNOWN,
                    gettext_noop("The HR system has no employee with that id."),
                    field="employee_id",
                ) from None
            channel = CHANNEL_HR
    except HRError:
        # Unavailable or unreadable: the request is not taken rather than taken blind.
        raise CertificateRequestRefused(
            REQUEST_HR_UNAVAILABLE,
            gettext_noop("The HR system cannot be read just now; try again later."),
        ) from None
    payload = _payload(
        employee=employee,
        kind=kind,
        channel=channel,
        user=user,
        include_worked_time=bool(include_worked_time) and kind == "arbetsgivarintyg",
    )
    case, _ = services.case_open(
        spec=PROCESS,
        external_ref=f"intyg-{uuid.uuid4()}",
        raw_body=json.dumps(payload, ensure_ascii=False, sort_keys=True),
        payload=payload,
        opened_by=user,
    )
    return case
