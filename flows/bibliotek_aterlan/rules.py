"""The renewal rules: which loans are due, and what a Renew Response means.

The library system is the authority on whether a loan may be renewed: the robot does not
decide, it asks (Renew 29) and reads the answer (Renew Response 30). This module turns that
answer into one of two statuses, ``renewed`` or ``exception``, and an exception's reason:

| reason           | SIP2 answer (ok=0) and screen message AF                       | export's data (fallback)            |
|------------------|----------------------------------------------------------------|-------------------------------------|
| `reserved`       | ``on_reserve`` (Koha), "reserv…", "on hold", "hold for another" | ``holds_by_others`` > 0             |
| `limit_reached`  | ``too_many`` (Koha), "max antal omlån", "omlånsgräns", "renewal limit", "too many renewals" | ``renewals`` ≥ ``renewal_limit`` |
| `patron_blocked` | ``restriction``/``debarred`` (Koha), "spärr…", "blocked"       | ``patron_blocked`` true             |
| `not_renewable`  | ``item_denied_renewal`` (Koha), "medietyp…", "not renewable", "får inte lånas om" | ``renewable`` false  |
| `error`          | anything else: no answer, a connection or checksum error, an answer for another item, ok=1 without a readable new due date (AH), or ok=0 that neither the message nor the data explains |  |

The screen message is read first (it is the library system's own reason for *this*
answer); the export's data explains a refusal only when the message does not (many ACSs
send free text or nothing). The data never turns an ok=1 into an exception, nor an ok=0
into a renewal. In the fallback the order is the library system's own rule order: patron
blocked, item type not renewable, reserved, limit reached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from .schemas import ExportedLoan
from .sip2 import ItemInfo, PatronInfo, RenewResult, SIP2Error

RENEWED = "renewed"
EXCEPTION = "exception"
WOULD_RENEW = "would_renew"  # dry run: nothing was sent, the data foresees no refusal


class Reason:
    RESERVED = "reserved"
    LIMIT_REACHED = "limit_reached"
    PATRON_BLOCKED = "patron_blocked"
    NOT_RENEWABLE = "not_renewable"
    ERROR = "error"
    ALL = (RESERVED, LIMIT_REACHED, PATRON_BLOCKED, NOT_RENEWABLE, ERROR)


# Lower-case substrings of AF screen messages, checked in this order.
SCREEN_MESSAGE_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (Reason.RESERVED, ("on_reserve", "reserv", "on hold", "hold for another")),
    (
        Reason.LIMIT_REACHED,
        ("too_many", "max antal omlån", "omlånsgräns", "renewal limit", "too many renewals"),
    ),
    (Reason.PATRON_BLOCKED, ("restriction", "debarred", "spärr", "blocked")),
    (
        Reason.NOT_RENEWABLE,
        ("item_denied_renewal", "medietyp", "not renewable", "får inte lånas om"),
    ),
)


@dataclass(frozen=True)
class DueLoan:
    """A loan as the robot knows it; None where the source does not say (SIP2 has no
    renewal count or limit, an export has no live hold queue)."""

    patron_id: str
    item_id: str
    title: str
    due_date: dt.date
    item_type: str | None = None
    renewable: bool | None = None
    renewals: int | None = None
    renewal_limit: int | None = None
    holds_by_others: int | None = None
    patron_blocked: bool | None = None
    patron_name: str = ""
    patron_email: str = ""
    source: str = "export"


def due_loan_from_export(row: ExportedLoan) -> DueLoan:
    return DueLoan(
        patron_id=row.patron_id,
        item_id=row.item_id,
        title=row.title,
        due_date=row.due_date,
        item_type=row.item_type,
        renewable=row.renewable,
        renewals=row.renewals,
        renewal_limit=row.renewal_limit,
        holds_by_others=row.holds_by_others,
        patron_blocked=row.patron_blocked,
        patron_name=row.patron_name,
        patron_email=row.patron_email,
        source="export",
    )


def loans_due(loans: Iterable[DueLoan], *, today: dt.date, within_days: int) -> list[DueLoan]:
    """Loans due on or before ``today + within_days``, earliest first.

    Overdue loans are included: a loan the robot could not renew last night (the library
    system was down) must not silently drop out; the library system decides whether an
    overdue loan may be renewed.
    """
    if within_days < 0:
        raise ValueError("within_days must be 0 or more")
    last = today + dt.timedelta(days=within_days)
    return sorted(
        (loan for loan in loans if loan.due_date <= last),
        key=lambda loan: (loan.due_date, loan.patron_id, loan.item_id),
    )


@dataclass(frozen=True)
class RenewalOutcome:
    loan: DueLoan
    status: str
    reason: str | None = None
    new_due_date: dt.date | None = None
    screen_message: str = ""
    # Why, for the librarian: the error code or what did not match.
    detail: str = ""

    @property
    def is_exception(self) -> bool:
        return self.status == EXCEPTION

    def as_dict(self) -> dict:
        """The outcome without the patron's name and e-mail (for logs, JSON and Prefect)."""
        return {
            "patron_id": self.loan.patron_id,
            "item_id": self.loan.item_id,
            "title": self.loan.title,
            "due_date": self.loan.due_date.isoformat(),
            "status": self.status,
            "reason": self.reason,
            "new_due_date": self.new_due_date.isoformat() if self.new_due_date else None,
            "screen_message": self.screen_message,
            "detail": self.detail,
        }


def reason_from_screen_messages(messages: Iterable[str]) -> str | None:
    text = " ".join(messages).lower()
    for reason, patterns in SCREEN_MESSAGE_PATTERNS:
        if any(p in text for p in patterns):
            return reason
    return None


def reason_from_loan_data(loan: DueLoan) -> str | None:
    """The refusal the loan's own data foresees, in the library system's rule order."""
    if loan.patron_blocked:
        return Reason.PATRON_BLOCKED
    if loan.renewable is False:
        return Reason.NOT_RENEWABLE
    if loan.holds_by_others:
        return Reason.RESERVED
    if (
        loan.renewals is not None
        and loan.renewal_limit is not None
        and loan.renewals >= loan.renewal_limit
    ):
        return Reason.LIMIT_REACHED
    return None


def renewal_classify(*, loan: DueLoan, response: RenewResult) -> RenewalOutcome:
    """What the Renew Response 30 for ``loan`` means (table in the module docstring)."""
    message = " / ".join(response.screen_messages)
    if response.item_id and response.item_id != loan.item_id:
        # An answer about another item is not an answer about this loan.
        return RenewalOutcome(
            loan,
            EXCEPTION,
            Reason.ERROR,
            screen_message=message,
            detail=f"the answer names item {response.item_id}",
        )
    if response.ok:
        if response.due_date is None:
            # The patron must be told the new date; without it a person has to look.
            return RenewalOutcome(
                loan,
                EXCEPTION,
                Reason.ERROR,
                screen_message=message,
                detail="ok=1 without a readable due date (AH)",
            )
        return RenewalOutcome(loan, RENEWED, new_due_date=response.due_date, screen_message=message)
    reason = reason_from_screen_messages(response.screen_messages)
    detail = "reason from the screen message"
    if reason is None:
        reason = reason_from_loan_data(loan)
        detail = "reason from the loan data" if reason else "ok=0 without a known reason"
    return RenewalOutcome(
        loan, EXCEPTION, reason or Reason.ERROR, screen_message=message, detail=detail
    )


def renewal_error(*, loan: DueLoan, error: SIP2Error) -> RenewalOutcome:
    """A loan whose Renew got no usable answer: the librarian must look (not renewed)."""
    return RenewalOutcome(loan, EXCEPTION, Reason.ERROR, detail=f"{error.code}: {error}")


def renewal_expectation(
    *, loan: DueLoan, patron: PatronInfo | None = None, item: ItemInfo | None = None
) -> RenewalOutcome:
    """Dry run: what the live patron and item data (63/64, 17/18) and the loan's data foresee.

    Only a forecast; the library system may still refuse for a reason SIP2 does not show.
    """
    if patron is not None and (not patron.valid or patron.renewal_denied):
        return RenewalOutcome(
            loan,
            EXCEPTION,
            Reason.PATRON_BLOCKED,
            screen_message=" / ".join(patron.screen_messages),
            detail="patron status: renewal privileges denied",
        )
    if item is not None and item.hold_queue_length:
        return RenewalOutcome(
            loan,
            EXCEPTION,
            Reason.RESERVED,
            detail=f"hold queue length {item.hold_queue_length}",
        )
    reason = reason_from_loan_data(loan)
    if reason:
        return RenewalOutcome(loan, EXCEPTION, reason, detail="reason from the loan data")
    return RenewalOutcome(loan, WOULD_RENEW)
