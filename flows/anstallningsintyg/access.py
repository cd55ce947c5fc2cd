"""Who may ask for which certificate; the core's approvals.access decides everything else.

An employee asks for their own certificate (the login's personnummer names them in the
HR register); HR staff — active humans of the process's unit — ask for anyone.
"""

from approvals.access import staff_of
from municipality.models import Staff

from .process import PROCESS


def may_request_for_anyone(user) -> bool:
    """HR och lön's own staff: humans of the unit, caseworker or team leader."""
    # Anonymous and inactive accounts ask for nothing.
    if not user.is_authenticated or not user.is_active:
        return False
    staff = staff_of(user)
    # Robots, integrations and everyone outside HR och lön ask only for themselves.
    if staff is None or not staff.is_human or staff.unit is None:
        return False
    return staff.unit.code == PROCESS.unit_code and staff.role in (
        Staff.Role.CASEWORKER,
        Staff.Role.TEAM_LEADER,
    )


def own_personnummer(user) -> str | None:
    """The personnummer a human login carries, or None (no self-service without one)."""
    # Anonymous and inactive accounts are nobody.
    if not user.is_authenticated or not user.is_active:
        return None
    staff = staff_of(user)
    # Robot and integration accounts are not employees.
    if staff is None or not staff.is_human or not staff.personnummer:
        return None
    return staff.personnummer
