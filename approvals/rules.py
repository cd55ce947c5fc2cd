"""The legal gate as pure predicates.

Called only by approvals.services.signing (before a decision exists) and
approvals.services.verification (after the flow resumes). Each
function returns an error code, or None when the rule is met. Nothing here reads
the database; the service passes in what it locked.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext_noop

from .registry import APPROVED, RETURNED, Outcome

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
DECISION_ADJUSTMENT_INVALID = "DECISION_ADJUSTMENT_INVALID"
DECISION_APPROVAL_BELOW_PROPOSAL = "DECISION_APPROVAL_BELOW_PROPOSAL"
DECISION_FLAGS_NOT_ACKNOWLEDGED = "DECISION_FLAGS_NOT_ACKNOWLEDGED"
DECISION_ADJUSTMENT_OUTCOME_MISMATCH = "DECISION_ADJUSTMENT_OUTCOME_MISMATCH"
DECISION_ADJUSTMENT_AMOUNT_MISMATCH = "DECISION_ADJUSTMENT_AMOUNT_MISMATCH"
DECISION_COSIGNER_SAME_PERSON = "DECISION_COSIGNER_SAME_PERSON"
DECISION_COSIGNATURE_MISMATCH = "DECISION_COSIGNATURE_MISMATCH"
RESUME_NO_DECISION = "RESUME_NO_DECISION"
RESUME_INPUT_MISMATCH = "RESUME_INPUT_MISMATCH"
RESUME_COSIGNATURE_MISSING = "RESUME_COSIGNATURE_MISSING"
RESUME_RECORD_TAMPERED = "RESUME_RECORD_TAMPERED"
# The signer's password was set by someone else and she has not changed it herself.
DECISION_SIGNER_PASSWORD_NOT_OWN = "DECISION_SIGNER_PASSWORD_NOT_OWN"

# English msgids, translated where they are shown (locale/sv); the rules stay pure.
MESSAGES = {
    DECISION_SIGNER_INACTIVE: gettext_noop("The account is not active."),
    DECISION_SIGNER_NOT_HUMAN: gettext_noop(
        "Only a human employee can sign a decision; integration and robot accounts never can."
    ),
    DECISION_SIGNER_NO_ACCESS: gettext_noop("You have no access to this case."),
    DECISION_SIGNER_NOT_DELEGATED: gettext_noop(
        "You hold no delegation for this decision type, unit and amount on this date."
    ),
    DECISION_SIGNER_PREPARED_MATERIAL: gettext_noop(
        "You prepared or changed this material and may not also decide on it."
    ),
    DECISION_SIGNER_CONFLICT_OF_INTEREST: gettext_noop(
        "You may not decide a case that concerns you or a member of your household."
    ),
    DECISION_SIGNER_NOT_ASSIGNEE: gettext_noop("The case is claimed by another caseworker."),
    DECISION_SIGNER_PASSWORD_NOT_OWN: gettext_noop(
        "Your password was set by someone else. Change it yourself before you sign."
    ),
    DECISION_MATERIAL_STALE: gettext_noop(
        "The material has changed since you opened it. Read the current version before deciding."
    ),
    DECISION_MATERIAL_NOT_OPENED: gettext_noop("Open the decision material before deciding."),
    DECISION_REQUEST_NOT_OPEN: gettext_noop(
        "This case has already been decided or is no longer open."
    ),
    DECISION_MOTIVATION_MISSING: gettext_noop("Write a motivation for this outcome."),
    DECISION_AMOUNT_INVALID: gettext_noop(
        "The amount must be a whole number of kronor, 0 or more."
    ),
    DECISION_OUTCOME_INVALID: gettext_noop("Unknown outcome."),
    DECISION_FLAGS_NOT_ACKNOWLEDGED: gettext_noop(
        "This case is held for manual review: confirm that you have checked each deviation "
        "marked for review before you decide."
    ),
    DECISION_APPROVAL_BELOW_PROPOSAL: gettext_noop(
        "Granting less than proposed is a partial refusal: choose to approve another amount "
        "and give the reason, so that the letter says how to appeal."
    ),
    DECISION_ADJUSTMENT_INVALID: gettext_noop(
        "A changed line cannot be used: only cost and income lines can be changed, each once, "
        "to a whole number of kronor, 0 or more, other than the proposed one, with a reason."
    ),
    DECISION_ADJUSTMENT_OUTCOME_MISMATCH: gettext_noop(
        "Changed lines that lower a cost or raise an income go against the applicant: choose "
        "to approve another amount. Changes only in the applicant's favour are an approval. "
        "Lines cannot be changed when you refuse or return the application."
    ),
    DECISION_ADJUSTMENT_AMOUNT_MISMATCH: gettext_noop(
        "The amount must be the one that follows from the changed lines. "
        "Leave the amount empty and it is computed from them."
    ),
    DECISION_COSIGNER_SAME_PERSON: gettext_noop(
        "The second signature must come from another delegate "
        "than the one who signed first (or on whose behalf it was signed)."
    ),
    DECISION_COSIGNATURE_MISMATCH: gettext_noop(
        "The second signature must confirm the same outcome and amount as the first."
    ),
    RESUME_NO_DECISION: gettext_noop("No signed decision exists for this request."),
    RESUME_INPUT_MISMATCH: gettext_noop("The resume input does not match the signed decision."),
    RESUME_RECORD_TAMPERED: gettext_noop(
        "The decision or its material no longer matches what the trail recorded at signing."
    ),
    RESUME_COSIGNATURE_MISSING: gettext_noop(
        "The decision needs a second signature that has not been given."
    ),
}


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


@dataclass(frozen=True)
class SubstitutionLine:
    """The substitute may exercise the absent person's delegation during the period."""

    id: int
    absent_user_id: int
    absent_role: str
    substitute_user_id: int
    decision_type: str
    valid_from: date
    valid_to: date


@dataclass(frozen=True)
class SecondSignerLine:
    id: int
    above_amount: int | None
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class Authority:
    """Under which delegation line a signer decides, and for whom if as a substitute."""

    line: DelegationLine
    substitution: SubstitutionLine | None = None

    @property
    def on_behalf_of_user_id(self) -> int | None:
        return self.substitution.absent_user_id if self.substitution else None


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


def outcome_is_complete(
    *, outcome: Outcome | None, motivation: str, amount: int | None
) -> str | None:
    """The chosen outcome is one the decision type declares, with what it requires."""
    if outcome is None:
        return DECISION_OUTCOME_INVALID
    if outcome.needs_motivation and not motivation.strip():
        return DECISION_MOTIVATION_MISSING
    if outcome.grants_amount and (amount is None or amount < 0):
        return DECISION_AMOUNT_INVALID
    return None


def adjustments_fit_outcome(
    *, outcome: Outcome, outcomes: tuple[Outcome, ...], favours_applicant: list[bool]
) -> str | None:
    """Changed lines decide the outcome, so that the document says what the decision is.

    A change against the party (a cost lowered, an income raised) is a partial refusal
    even when another change raises the total, and the document must then say how to
    appeal: the outcome is the decision type's outcome that grants an amount and goes
    against the party (bistånd: "partly_approved"). Changes only in the party's favour
    give at least the proposed amount, which is an approval. Outcomes that grant no
    amount (refuse, return) change no lines.
    """
    if not favours_applicant:
        return None
    if not outcome.grants_amount:
        return DECISION_ADJUSTMENT_OUTCOME_MISMATCH
    if all(favours_applicant):
        expected = APPROVED
    else:
        partial = next((o for o in outcomes if o.grants_amount and o.against_party), None)
        expected = partial.code if partial else None
    if outcome.code != expected:
        return DECISION_ADJUSTMENT_OUTCOME_MISMATCH
    return None


def amount_decided_about(*, outcome: str, proposed: int | None, granted: int | None) -> int:
    """The sum a decision is about, which delegation limits and second-signer rules compare
    against: the larger of what was proposed (applied for) and what is granted, for every
    outcome — refusing 21 835 kr is a decision about 21 835 kr. A return decides no sum."""
    if outcome == RETURNED:
        return 0
    return max(proposed or 0, granted or 0)


def flags_acknowledged(*, flags: list[dict], acknowledged: set[str]) -> str | None:
    # A deviation that freezes the case (e.g. a second application for the same period)
    # is confirmed by the signer, one by one; none is passed over by default.
    required = {f["code"] for f in flags if f.get("requires_acknowledgement")}
    if required - acknowledged:
        return DECISION_FLAGS_NOT_ACKNOWLEDGED
    return None


def approval_not_below_proposal(
    *, outcome: str, amount: int | None, proposed: int | None
) -> str | None:
    # An "approval" of less than the proposed sum would hide a partial refusal (and its
    # appeal instructions) from the party.
    if outcome == APPROVED and amount is not None and proposed is not None and amount < proposed:
        return DECISION_APPROVAL_BELOW_PROPOSAL
    return None


def adjusted_amount_matches(*, amount: int | None, adjusted_amount: int) -> str | None:
    # With changed lines the amount is computed, never typed: a different figure is refused.
    if amount != adjusted_amount:
        return DECISION_ADJUSTMENT_AMOUNT_MISMATCH
    return None


def _in_period(on: date, valid_from: date, valid_to: date | None) -> bool:
    return valid_from <= on and (valid_to is None or on <= valid_to)


def signing_authority(
    *,
    signer: Signer,
    lines: list[DelegationLine],
    substitutions: list[SubstitutionLine],
    decision_type: str,
    amount: int,
    on: date,
) -> Authority | None:
    """The signer's own covering delegation, else one exercised as a substitute.

    A substitute acts on behalf of an absent delegate: the absent person's lines
    (named or by their role) must cover the decision on the date.
    """
    own = matching_delegation(signer=signer, lines=lines, amount=amount, on=on)
    if own is not None:
        return Authority(own)
    for substitution in sorted(substitutions, key=lambda s: s.id):
        # Only the named substitute, only in the absence period, only for the types given.
        if (
            substitution.substitute_user_id != signer.user_id
            or substitution.absent_user_id == signer.user_id
            or not _in_period(on, substitution.valid_from, substitution.valid_to)
            or substitution.decision_type not in ("", decision_type)
        ):
            continue
        absent = Signer(
            user_id=substitution.absent_user_id,
            is_active=True,
            is_human=True,
            role=substitution.absent_role,
            personnummer="",
        )
        line = matching_delegation(signer=absent, lines=lines, amount=amount, on=on)
        if line is not None:
            return Authority(line, substitution)
    return None


def authority_still_covers(
    *,
    authority: Authority,
    signer: Signer,
    holder_role: str,
    decision_type: str,
    amount: int,
    on: date,
) -> str | None:
    """After resume: the recorded line (and substitution) still cover the signed decision.

    `authority` holds the lines as they read now; the decision's date and amount are
    fixed. A line since deleted from the order never reaches this function: the
    service refuses it first.
    """
    holder_id = authority.on_behalf_of_user_id or signer.user_id
    holder = Signer(
        user_id=holder_id,
        is_active=True,
        is_human=True,
        role=holder_role,
        personnummer="",
    )
    if matching_delegation(signer=holder, lines=[authority.line], amount=amount, on=on) is None:
        return DECISION_SIGNER_NOT_DELEGATED
    sub = authority.substitution
    if sub is not None and (
        sub.substitute_user_id != signer.user_id
        or not _in_period(on, sub.valid_from, sub.valid_to)
        or sub.decision_type not in ("", decision_type)
    ):
        return DECISION_SIGNER_NOT_DELEGATED
    return None


def second_signature_required(
    *, rules: list[SecondSignerLine], outcome: str, amount: int | None, on: date
) -> bool:
    """Whether a configured rule asks for a second signer for this outcome and amount."""
    # A return for completion decides nothing on the matter.
    if outcome == RETURNED:
        return False
    return any(
        _in_period(on, rule.valid_from, rule.valid_to)
        and (rule.above_amount is None or (amount or 0) > rule.above_amount)
        for rule in rules
    )


def cosigner_is_distinct(*, first_signer_ids: set[int], cosigner_ids: set[int]) -> str | None:
    # Two signatures mean two different delegates: neither the first signer nor the
    # person they acted for may sign (or be acted for) a second time.
    if first_signer_ids & cosigner_ids:
        return DECISION_COSIGNER_SAME_PERSON
    return None


def cosignature_matches(
    *,
    outcome: str,
    amount: int | None,
    first_outcome: str,
    first_amount: int | None,
    adjustments: list[dict] | None = None,
    first_adjustments: list[dict] | None = None,
) -> str | None:
    # The second signer confirms the first signer's decision, changed lines included; a
    # different view is not a second signature.
    if (
        outcome != first_outcome
        or amount != first_amount
        or (adjustments or []) != (first_adjustments or [])
    ):
        return DECISION_COSIGNATURE_MISMATCH
    return None


# --- a fresh authentication to sign (issue 10, point 2) ----------------------------------

DECISION_AUTHENTICATION_STALE = "DECISION_AUTHENTICATION_STALE"
MESSAGES[DECISION_AUTHENTICATION_STALE] = gettext_noop(
    "Signing needs a recent login: confirm who you are again, then sign."
)
# How the signer proved who they are: their password on the login page (or again on the
# case page), or the municipality's identity provider (OpenID Connect).
AUTH_PASSWORD = "password"
AUTH_OIDC = "oidc"
AUTH_METHODS = (AUTH_PASSWORD, AUTH_OIDC)


@dataclass(frozen=True)
class Authentication:
    """When and how the signer last authenticated (None: not known to have)."""

    method: str
    at: datetime | None


def authentication_is_fresh(
    authentication: Authentication | None, *, now: datetime, window_seconds: int
) -> str | None:
    # A signature is given by whoever holds the session: the person must have proved who
    # they are within the window (an unattended, logged-in screen signs nothing). A
    # login in the future beyond a small clock skew is no proof either.
    if (
        authentication is None
        or authentication.method not in AUTH_METHODS
        or authentication.at is None
    ):
        return DECISION_AUTHENTICATION_STALE
    age = (now - authentication.at).total_seconds()
    if age > window_seconds or age < -AUTH_CLOCK_SKEW_SECONDS:
        return DECISION_AUTHENTICATION_STALE
    return None


AUTH_CLOCK_SKEW_SECONDS = 60
