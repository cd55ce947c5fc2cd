"""The legal gate as pure predicates.

Called only by approvals.services.decision_sign (before a decision exists) and
approvals.services.decision_verify_for_execution (after the flow resumes). Each
function returns an error code, or None when the rule is met. Nothing here reads
the database; the service passes in what it locked.
"""

from dataclasses import dataclass
from datetime import date

DECISION_SIGNER_INACTIVE = "DECISION_SIGNER_INACTIVE"
DECISION_SIGNER_NOT_HUMAN = "DECISION_SIGNER_NOT_HUMAN"
DECISION_SIGNER_NO_ACCESS = "DECISION_SIGNER_NO_ACCESS"
DECISION_SIGNER_NOT_DELEGATED = "DECISION_SIGNER_NOT_DELEGATED"
DECISION_SIGNER_PREPARED_MATERIAL = "DECISION_SIGNER_PREPARED_MATERIAL"
DECISION_SIGNER_CONFLICT_OF_INTEREST = "DECISION_SIGNER_CONFLICT_OF_INTEREST"
DECISION_SIGNER_NOT_ASSIGNEE = "DECISION_SIGNER_NOT_ASSIGNEE"
DECISION_MATERIAL_STALE = "DECISION_MATERIAL_STALE"
DECISION_MATERIAL_NOT_OPENED = "DECISION_MATERIAL_NOT_OPENED"
DECISION_REQUEST_NOT_OPEN = "DECISION_REQUEST_NOT_OPEN"
DECISION_MOTIVATION_MISSING = "DECISION_MOTIVATION_MISSING"
DECISION_AMOUNT_INVALID = "DECISION_AMOUNT_INVALID"
DECISION_OUTCOME_INVALID = "DECISION_OUTCOME_INVALID"
RESUME_NO_DECISION = "RESUME_NO_DECISION"
RESUME_INPUT_MISMATCH = "RESUME_INPUT_MISMATCH"

MESSAGES = {
    DECISION_SIGNER_INACTIVE: "The account is not active.",
    DECISION_SIGNER_NOT_HUMAN: "Only a human employee can sign a decision; "
    "integration and robot accounts never can.",
    DECISION_SIGNER_NO_ACCESS: "You have no access to this case.",
    DECISION_SIGNER_NOT_DELEGATED: "You hold no delegation for this decision type, unit and "
    "amount on this date.",
    DECISION_SIGNER_PREPARED_MATERIAL: "You prepared or changed this material and may not also "
    "decide on it.",
    DECISION_SIGNER_CONFLICT_OF_INTEREST: "You may not decide a case that concerns you or a "
    "member of your household.",
    DECISION_SIGNER_NOT_ASSIGNEE: "The case is claimed by another caseworker.",
    DECISION_MATERIAL_STALE: "The material has changed since you opened it. Read the current "
    "version before deciding.",
    DECISION_MATERIAL_NOT_OPENED: "Open the decision material before deciding.",
    DECISION_REQUEST_NOT_OPEN: "This case has already been decided or is no longer open.",
    DECISION_MOTIVATION_MISSING: "Write a motivation for this outcome.",
    DECISION_AMOUNT_INVALID: "The amount must be a whole number of kronor, 0 or more.",
    DECISION_OUTCOME_INVALID: "Unknown outcome.",
    RESUME_NO_DECISION: "No signed decision exists for this request.",
    RESUME_INPUT_MISMATCH: "The resume input does not match the signed decision.",
}

OUTCOMES = ("approved", "partly_approved", "refused", "returned")
OUTCOMES_NEEDING_MOTIVATION = ("partly_approved", "refused", "returned")


@dataclass(frozen=True)
class Signer:
    """What the gate needs to know about the person signing."""

    user_id: int
    is_active: bool
    is_human: bool
    role: str
    personnummer: str


@dataclass(frozen=True)
class DelegationLine:
    id: int
    user_id: int | None
    role: str
    max_amount: int | None
    valid_from: date
    valid_to: date | None


def signer_is_eligible(signer: Signer) -> str | None:
    # A superuser or staff flag grants nothing here: only the kind of account counts.
    if not signer.is_active:
        return DECISION_SIGNER_INACTIVE
    if not signer.is_human:
        return DECISION_SIGNER_NOT_HUMAN
    return None


def matching_delegation(
    *, signer: Signer, lines: list[DelegationLine], amount: int, on: date
) -> DelegationLine | None:
    """The delegation line that covers this signer, amount and date, if any.

    Lines for a named person are preferred over role lines; among those, the
    narrowest (lowest limit) line that still covers the amount.
    """
    covering = [
        line
        for line in lines
        if (line.user_id == signer.user_id or (line.user_id is None and line.role == signer.role))
        and line.valid_from <= on
        and (line.valid_to is None or on <= line.valid_to)
        and (line.max_amount is None or amount <= line.max_amount)
    ]
    covering.sort(
        key=lambda line: (line.user_id is None, line.max_amount is None, line.max_amount or 0)
    )
    return covering[0] if covering else None


def material_is_current(
    *, shown_sha256: str, request_sha256: str, latest_sha256: str
) -> str | None:
    # The signer must decide on exactly what was shown, and that must be the newest version.
    if not (shown_sha256 == request_sha256 == latest_sha256):
        return DECISION_MATERIAL_STALE
    return None


def no_conflict_of_interest(*, signer: Signer, household: list[str]) -> str | None:
    # Deciding one's own or a household member's case is refused (FL 16 §, jäv).
    if signer.personnummer and signer.personnummer in household:
        return DECISION_SIGNER_CONFLICT_OF_INTEREST
    return None


def separation_of_duties(*, signer: Signer, prepared_by_ids: set[int]) -> str | None:
    # Whoever prepared or changed the material does not also decide on it.
    if signer.user_id in prepared_by_ids:
        return DECISION_SIGNER_PREPARED_MATERIAL
    return None


def outcome_is_complete(*, outcome: str, motivation: str, amount: int | None) -> str | None:
    if outcome not in OUTCOMES:
        return DECISION_OUTCOME_INVALID
    if outcome in OUTCOMES_NEEDING_MOTIVATION and not motivation.strip():
        return DECISION_MOTIVATION_MISSING
    if outcome in ("approved", "partly_approved") and (amount is None or amount < 0):
        return DECISION_AMOUNT_INVALID
    return None
