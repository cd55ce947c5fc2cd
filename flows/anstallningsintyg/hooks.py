"""The hooks the core calls for the certificate robot (approvals.registry lists them)."""

from .process import CLOSED, CORRECTED_AND_ISSUED


def parties(*, payload: dict) -> list[tuple[str, str, str]]:
    """The employee the certificate is about (conflict of interest, search, access log)."""
    employee = payload["employee"]
    return [(employee["personnummer"], "employee", employee["name"])]


def case_data(*, payload: dict) -> dict:
    """What kind of certificate, for whom (HR's id) and how it was asked for."""
    return {
        "kind": payload["kind"],
        "employee_id": payload["employee"]["id"],
        "channel": payload["channel"],
    }


def exception_actions() -> list[str]:
    return [CORRECTED_AND_ISSUED, CLOSED]


def case_panel_context(*, case, material) -> dict:
    from .panel import case_panel_context as context

    return context(case=case, material=material)


def demo_load(*, org: dict) -> None:
    """HR och lön, its officers, the robot account, and employees who may log in."""
    from .demo import demo_load as load

    load(org=org)


def automation(*, since) -> dict:
    """For the operators' catalogue: requests handled since `since` and how many without a person.

    Handled: cases completed in the window. Automatic: those completed without any
    exception request, i.e. issued by the rules alone.
    """
    from .selectors import automation_counts

    return automation_counts(since=since)
