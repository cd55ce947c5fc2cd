"""Reconciliation settings: the cash points, the ledger accounts and the tolerances.

Rule data, versioned by the date it takes effect (like the bistånd rule sets): a month is
reconciled with the version in force on its first day, and the result names the version.
Never edit a published version; add a new one to ``CONFIGS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class CashPoint:
    """A place that takes payments, and how its money is recognised on the bank statement.

    ``deposit_ref``, ``card_ref`` and ``swish_ref`` are texts the bank carries in the
    entry's remittance information (the deposit bag's reference, the card acquirer's
    merchant number, the Swish number); ``cost_centre`` is the object in the ledger's
    cost-centre dimension on which the Z-report is booked.
    """

    code: str
    name: str
    cost_centre: str
    deposit_ref: str
    card_ref: str
    swish_ref: str


@dataclass(frozen=True)
class ReconciliationConfig:
    version: str
    valid_from: date
    cash_points: tuple[CashPoint, ...]
    currency: str = "SEK"
    # BAS accounts: 1910 Kassa, 1580 Fordringar för kontokort, 1581 Swish (local sub-account).
    cash_account: str = "1910"
    card_account: str = "1580"
    swish_account: str = "1581"
    bank_account: str = "1930"
    # Voucher series in which the till integration books each Z-report.
    till_series: str = "K"
    # SIE dimension 1 is the cost centre (kostnadsställe) by the standard's reserved numbers.
    cost_centre_dimension: str = "1"
    # Banking days after the takings day within which money is due (first, last).
    deposit_window: tuple[int, int] = (1, 3)
    card_window: tuple[int, int] = (1, 3)
    swish_window: tuple[int, int] = (0, 1)
    # A deposit may differ from the counted cash by this much (coin rounding): ±1 kr.
    cash_rounding_ore: int = 100
    # The acquirer's fee, as a share of the day's card takings, plus a fixed slack.
    card_fee_min_rate: Decimal = Decimal("0.005")
    card_fee_max_rate: Decimal = Decimal("0.025")
    card_fee_slack_ore: int = 100
    # Deposits without a date reference are matched by amount among at most this many days.
    deposit_subset_max_days: int = 8

    def cash_point(self, code: str) -> CashPoint | None:
        return next((c for c in self.cash_points if c.code == code), None)

    @property
    def codes(self) -> set[str]:
        return {c.code for c in self.cash_points}


DEMO_2026 = ReconciliationConfig(
    version="kassa-2026-1",
    valid_from=date(2026, 1, 1),
    cash_points=(
        CashPoint(
            code="bibliotek",
            name="Stadsbiblioteket",
            cost_centre="4110",
            deposit_ref="DEP BIBL",
            card_ref="KORT 5501001",
            swish_ref="SWISH 1230001001",
        ),
        CashPoint(
            code="simhall",
            name="Simhallen",
            cost_centre="4320",
            deposit_ref="DEP BAD",
            card_ref="KORT 5501002",
            swish_ref="SWISH 1230001002",
        ),
        CashPoint(
            code="reception",
            name="Kommunhusets reception",
            cost_centre="1150",
            deposit_ref="DEP RECE",
            card_ref="KORT 5501003",
            swish_ref="SWISH 1230001003",
        ),
    ),
)

CONFIGS: tuple[ReconciliationConfig, ...] = (DEMO_2026,)


def config_for(day: date) -> ReconciliationConfig:
    """The configuration in force on ``day`` (the first day of the month reconciled)."""
    in_force = [c for c in CONFIGS if c.valid_from <= day]
    if not in_force:
        raise LookupError(f"no reconciliation configuration in force on {day}")
    return max(in_force, key=lambda c: c.valid_from)
