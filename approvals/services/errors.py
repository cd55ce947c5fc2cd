"""Refusals of the services, as named constants tests assert on."""

from approvals import rules

APPLICATION_DUPLICATE_DIFFERS = "APPLICATION_DUPLICATE_DIFFERS"
APPLICATION_UNKNOWN_PROCESS = "APPLICATION_UNKNOWN_PROCESS"
APPLICATION_NOT_INTEGRATION = "APPLICATION_NOT_INTEGRATION"
INTAKE_SATURATED = "INTAKE_SATURATED"
SUPPLEMENT_NOT_EXPECTED = "SUPPLEMENT_NOT_EXPECTED"
SUPPLEMENT_UNKNOWN = "SUPPLEMENT_UNKNOWN"
CASE_MODE_FORBIDS = "CASE_MODE_FORBIDS"
EXCEPTION_NOT_OPEN = "EXCEPTION_NOT_OPEN"
EXCEPTION_NO_ACCESS = "EXCEPTION_NO_ACCESS"
EXCEPTION_REASON_MISSING = "EXCEPTION_REASON_MISSING"
EXCEPTION_ACTION_INVALID = "EXCEPTION_ACTION_INVALID"


class ServiceError(Exception):
    """A refused action; `code` is a named constant tests assert on."""

    def __init__(self, code: str, message: str | None = None):
        self.code = code
        self.message = message or rules.MESSAGES.get(code, code)
        super().__init__(f"{code}: {self.message}")


class GateRefused(ServiceError):
    """The legal gate refused a decision or its execution."""


class IntakeSaturated(ServiceError):
    """Intake refuses a new application for now (nothing was stored); retry after
    `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(INTAKE_SATURATED, message)
        self.retry_after = retry_after
