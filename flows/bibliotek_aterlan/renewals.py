"""One night's renewal run: read the loans due, renew each over SIP2, classify the answers.

The functions take an open, logged-in ``SIP2Client`` so that the command, the tests and
(phase 2) the flow's steps all run the same code; they write nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from .rules import (
    DueLoan,
    RenewalOutcome,
    loans_due,
    renewal_classify,
    renewal_error,
    renewal_expectation,
)
from .sip2 import ACSStatus, PatronInfo, SIP2Client, SIP2Error

LIBRARY_OFFLINE = "library_offline"
LIBRARY_RENEW_UNSUPPORTED = "library_renew_unsupported"


class LibraryUnavailable(Exception):
    """The ACS is off-line or does not support Renew: nothing is attempted tonight."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


@dataclass
class RenewalRun:
    today: dt.date
    within_days: int
    dry_run: bool
    acs: ACSStatus
    outcomes: list[RenewalOutcome] = field(default_factory=list)
    reconnects: int = 0
    resends: int = 0

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(o.status for o in self.outcomes)
        reasons = Counter(o.reason for o in self.outcomes if o.reason)
        return {
            **dict(sorted(counts.items())),
            **{f"reason_{k}": v for k, v in sorted(reasons.items())},
        }

    def as_dict(self) -> dict:
        return {
            "today": self.today.isoformat(),
            "due_within": self.within_days,
            "dry_run": self.dry_run,
            "library": {
                "institution": self.acs.institution,
                "name": self.acs.library_name,
                "online": self.acs.online,
                "protocol_version": self.acs.protocol_version,
            },
            "loans": [o.as_dict() for o in self.outcomes],
            "counts": self.counts,
            "transport": {"reconnects": self.reconnects, "resends": self.resends},
        }


def library_status_check(*, client: SIP2Client) -> ACSStatus:
    """SC Status first, as the spec asks of an SC: refuse to run against an ACS that is
    off-line or cannot renew (every Renew would fail and flood the librarians' queue)."""
    acs = client.sc_status()
    if not acs.online:
        raise LibraryUnavailable(
            "the library system reports that it is off-line", code=LIBRARY_OFFLINE
        )
    if not acs.supported.get("renew", False):
        raise LibraryUnavailable(
            "the library system does not support Renew (29)", code=LIBRARY_RENEW_UNSUPPORTED
        )
    return acs


def loans_from_patrons(*, client: SIP2Client, patron_ids: list[str]) -> list[DueLoan]:
    """The loans of the given patrons, read live: Patron Information 63/64 lists the charged
    items (AU), Item Information 17/18 gives each one's title, due date and hold queue."""
    loans = []
    for patron_id in patron_ids:
        patron = client.patron_information(patron_id, summary="charged")
        if not patron.valid:
            continue
        for item_id in patron.charged_items:
            item = client.item_information(item_id)
            if item.due_date is None:
                continue
            loans.append(
                DueLoan(
                    patron_id=patron_id,
                    item_id=item_id,
                    title=item.title or "",
                    due_date=item.due_date,
                    item_type=item.item_properties,
                    holds_by_others=item.hold_queue_length,
                    patron_blocked=patron.renewal_denied,
                    patron_name=patron.name or "",
                    patron_email=patron.email or "",
                    source="sip2",
                )
            )
    return loans


def renewal_run(
    *,
    client: SIP2Client,
    loans: list[DueLoan],
    today: dt.date,
    within_days: int,
    dry_run: bool = False,
) -> RenewalRun:
    """Renew every loan due within ``within_days`` (or, dry run, only read and forecast)."""
    acs = library_status_check(client=client)
    run = RenewalRun(today=today, within_days=within_days, dry_run=dry_run, acs=acs)
    patrons: dict[str, PatronInfo] = {}
    for loan in loans_due(loans, today=today, within_days=within_days):
        try:
            if dry_run:
                if loan.patron_id not in patrons:
                    patrons[loan.patron_id] = client.patron_information(
                        loan.patron_id, summary="charged"
                    )
                item = client.item_information(loan.item_id)
                outcome = renewal_expectation(loan=loan, patron=patrons[loan.patron_id], item=item)
            else:
                response = client.renew(loan.patron_id, loan.item_id)
                outcome = renewal_classify(loan=loan, response=response)
        except SIP2Error as exc:
            outcome = renewal_error(loan=loan, error=exc)
        run.outcomes.append(outcome)
    run.reconnects = client.reconnects
    run.resends = client.resends
    return run
