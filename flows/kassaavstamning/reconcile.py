"""Matching of till takings against the bank statement and the ledger, as one pure function.

``reconcile(bank=, ledger=, till=, config=)`` returns one ``DayResult`` per cash point and
takings day (and one per day with a bank entry nobody can explain). Nothing is booked or
stored; the flow and ``manage.py reconcile`` call the same function.

How bank entries are attributed. An entry belongs to a cash point and a kind when its
free text (remittance information, additional entry information, end-to-end id)
contains the cash point's deposit, card or Swish reference from the configuration.
Dates written ``YYYY-MM-DD`` in that text name the takings days the money is for
("DEP BIBL 2026-11-05 2026-11-06" is one deposit for two days). Where no date is given:

- a cash deposit is matched by amount: among the cash point's still unmatched days
  whose deposit window (1–3 banking days after the day) contains the booking date, the
  smallest set of days whose cash adds up to the deposit within the rounding tolerance
  is taken, the earliest days first when several sets fit;
- a card settlement goes to the earliest unmatched day in its window whose fee would be
  within the configured range; a Swish entry to the booking day (or the day before).

Checks per cash point and day:

- cash: the deposit(s) covering the day must equal the counted cash less cash refunds,
  summed over the days they cover, within ±``cash_rounding_ore``. A day with nothing
  deposited once its window has closed (by the statement's last day) is
  ``deposit_missing``; before that the day is ``pending``. A wrong sum is
  ``deposit_amount``, reported on the last day the deposit covers.
- card: the acquirer's settlement is the card takings less a fee; a fee outside
  [min rate, max rate] × takings ± slack, or no settlement once the window has closed,
  is ``card_amount`` (expected: the takings; found: what was paid).
- Swish: paid gross; anything else is ``swish_amount``.
- ledger: the Z-report must be booked once, in the till series, on the cash point's cost
  centre and the day, with cash less refunds on the cash account, card on the card
  account and Swish on the Swish account. No voucher is ``ledger_missing``; an identical
  voucher (same text and amounts) again is ``ledger_duplicate``; a different amount on
  an account is ``ledger_amount``.
- a credit or debit on the statement that belongs to no cash point, or that names a day
  without such takings, is ``bank_unexplained``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations

from .bankdays import banking_day_window
from .camt053 import BankDocument, Entry
from .config import CashPoint, ReconciliationConfig
from .money import format_kronor
from .sie4 import Posting, SieFile
from .till import ZReport

DEPOSIT_MISSING = "deposit_missing"
DEPOSIT_AMOUNT = "deposit_amount"
CARD_AMOUNT = "card_amount"
SWISH_AMOUNT = "swish_amount"
LEDGER_MISSING = "ledger_missing"
LEDGER_AMOUNT = "ledger_amount"
LEDGER_DUPLICATE = "ledger_duplicate"
BANK_UNEXPLAINED = "bank_unexplained"
KINDS = (
    DEPOSIT_MISSING,
    DEPOSIT_AMOUNT,
    CARD_AMOUNT,
    SWISH_AMOUNT,
    LEDGER_MISSING,
    LEDGER_AMOUNT,
    LEDGER_DUPLICATE,
    BANK_UNEXPLAINED,
)

MATCHED = "matched"
PENDING = "pending"
DIFFERENCES = "differences"

_DATE_IN_TEXT = re.compile(r"(?<![0-9])(20[0-9]{2})-([01][0-9])-([0-3][0-9])(?![0-9])")


@dataclass(frozen=True)
class Difference:
    cash_point: str | None
    date: date
    kind: str
    expected: int
    found: int
    detail: str

    def as_dict(self) -> dict:
        return {
            "cash_point": self.cash_point,
            "date": self.date.isoformat(),
            "kind": self.kind,
            "expected": self.expected,
            "found": self.found,
            "detail": self.detail,
        }


@dataclass
class DayResult:
    """One cash point's day: ``matched``, ``pending`` (money not yet due) or ``differences``."""

    cash_point: str | None
    date: date
    takings: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.differences:
            return DIFFERENCES
        return PENDING if self.pending else MATCHED

    def as_dict(self) -> dict:
        return {
            "cash_point": self.cash_point,
            "date": self.date.isoformat(),
            "status": self.status,
            "takings": dict(self.takings),
            "differences": [d.as_dict() for d in self.differences],
            "pending": list(self.pending),
            "notes": list(self.notes),
        }


@dataclass
class _Day:
    cash_net: int = 0
    card: int = 0
    swish: int = 0
    z_reports: list[str] = field(default_factory=list)


def _normalise(text: str) -> str:
    return " ".join(text.upper().split())


def _dates_in(text: str) -> list[date]:
    days = []
    for year, month, day in _DATE_IN_TEXT.findall(text):
        try:
            days.append(date(int(year), int(month), int(day)))
        except ValueError:
            continue
    return sorted(set(days))


def _describe(entry: Entry) -> str:
    ref = entry.account_servicer_ref or entry.entry_ref
    text = entry.text or "(ingen text)"
    return f'{entry.booking_date} {format_kronor(entry.signed_amount)} "{text}"' + (
        f" ref {ref}" if ref else ""
    )


class _Reconciliation:
    def __init__(self, *, bank, ledger, till, config: ReconciliationConfig) -> None:
        self.config = config
        self.as_of: date | None = bank.last_date
        self.days: dict[str, dict[date, _Day]] = defaultdict(dict)
        for report in till:
            day = self.days[report.cash_point].setdefault(report.date, _Day())
            day.cash_net += report.cash_net
            day.card += report.card
            day.swish += report.swish
            day.z_reports.append(f"{report.till_id} nr {report.z_number}")
        self.results: dict[tuple[str | None, date], DayResult] = {}
        for code, days in self.days.items():
            for day, figures in days.items():
                self._result(code, day).takings = {
                    "cash_net": figures.cash_net,
                    "card": figures.card,
                    "swish": figures.swish,
                }
        self.bank = bank
        self.ledger = ledger

    # -- helpers --------------------------------------------------------------------------
    def _result(self, code: str | None, day: date) -> DayResult:
        key = (code, day)
        if key not in self.results:
            self.results[key] = DayResult(cash_point=code, date=day)
        return self.results[key]

    def _add(self, code, day, kind, expected, found, detail) -> None:
        self._result(code, day).differences.append(
            Difference(code, day, kind, expected, found, detail)
        )

    def _window_closed(self, day: date, window: tuple[int, int]) -> bool:
        _, last = banking_day_window(day, *window)
        return self.as_of is not None and self.as_of >= last

    def _in_window(self, day: date, booking: date, window: tuple[int, int]) -> bool:
        first, last = banking_day_window(day, *window)
        return first <= booking <= last

    # -- bank -----------------------------------------------------------------------------
    def classify(self) -> dict[tuple[str, str], list[Entry]]:
        """Entries by (cash point, kind); the rest are reported as unexplained."""
        by_key: dict[tuple[str, str], list[Entry]] = defaultdict(list)
        for entry in self.bank.entries:
            if not entry.booked:
                continue
            text = _normalise(entry.text)
            key = None
            for point in self.config.cash_points:
                for kind, ref in (
                    ("deposit", point.deposit_ref),
                    ("card", point.card_ref),
                    ("swish", point.swish_ref),
                ):
                    if _normalise(ref) in text:
                        key = (point.code, kind)
                        break
                if key:
                    break
            if key is None:
                self._add(
                    None,
                    entry.booking_date,
                    BANK_UNEXPLAINED,
                    0,
                    entry.signed_amount,
                    f"bankpost som inte hör till någon kassapunkt: {_describe(entry)}",
                )
            else:
                by_key[key].append(entry)
        return by_key

    def deposits(self, point: CashPoint, entries: list[Entry]) -> None:
        days = {d: f.cash_net for d, f in self.days.get(point.code, {}).items() if f.cash_net > 0}
        claimed: dict[date, Entry] = {}
        tolerance = self.config.cash_rounding_ore
        undated = []
        for entry in sorted(entries, key=lambda e: e.booking_date):
            named = _dates_in(entry.text)
            if not named:
                undated.append(entry)
                continue
            covered = [d for d in named if d in days and d not in claimed]
            unknown = [d for d in named if d not in covered]
            if not covered:
                self._add(
                    point.code,
                    entry.booking_date,
                    BANK_UNEXPLAINED,
                    0,
                    entry.signed_amount,
                    "insättning för dag(ar) utan kontantkassa eller redan redovisade: "
                    + _describe(entry),
                )
                continue
            for d in covered:
                claimed[d] = entry
            self._check_deposit(point, entry, covered, days, tolerance, unknown)
        for entry in undated:
            candidates = sorted(
                d
                for d in days
                if d not in claimed
                and self._in_window(d, entry.booking_date, self.config.deposit_window)
            )[: self.config.deposit_subset_max_days]
            chosen = self._subset(candidates, days, entry.signed_amount, tolerance)
            if chosen is None:
                self._add(
                    point.code,
                    entry.booking_date,
                    BANK_UNEXPLAINED,
                    0,
                    entry.signed_amount,
                    "insättning utan datum som inte motsvarar kassan för någon dag eller några "
                    "dagar i fönstret: " + _describe(entry),
                )
                continue
            for d in chosen:
                claimed[d] = entry
            self._check_deposit(point, entry, list(chosen), days, tolerance, [])
        for d, amount in days.items():
            if d in claimed:
                continue
            if self._window_closed(d, self.config.deposit_window):
                last = banking_day_window(d, *self.config.deposit_window)[1]
                self._add(
                    point.code,
                    d,
                    DEPOSIT_MISSING,
                    amount,
                    0,
                    f"ingen insättning av dagens kontanter senast {last}",
                )
            else:
                self._result(point.code, d).pending.append("deposit")

    @staticmethod
    def _subset(candidates, days, amount, tolerance):
        for size in range(1, len(candidates) + 1):
            for subset in combinations(candidates, size):  # earliest days first
                if abs(sum(days[d] for d in subset) - amount) <= tolerance:
                    return subset
        return None

    def _check_deposit(self, point, entry, covered, days, tolerance, unknown) -> None:
        expected = sum(days[d] for d in covered)
        found = entry.signed_amount
        last = max(covered)
        span = ", ".join(d.isoformat() for d in sorted(covered))
        if abs(found - expected) > tolerance:
            detail = f"insättning {entry.booking_date} för {span}: {_describe(entry)}"
            if unknown:
                detail += "; nämner även " + ", ".join(d.isoformat() for d in unknown)
            self._add(point.code, last, DEPOSIT_AMOUNT, expected, found, detail)
        elif found != expected:
            self._result(point.code, last).notes.append(
                f"insättning {entry.booking_date} avrundad {format_kronor(found - expected)}"
                " (inom toleransen)"
            )

    def settlements(self, point: CashPoint, entries: list[Entry], kind: str) -> None:
        """Card (net of fee) or Swish (gross) money against the day's takings of that tender."""
        window = self.config.card_window if kind == "card" else self.config.swish_window
        takings = {
            d: (f.card if kind == "card" else f.swish)
            for d, f in self.days.get(point.code, {}).items()
        }
        takings = {d: a for d, a in takings.items() if a}
        paid: dict[date, list[Entry]] = defaultdict(list)
        for entry in sorted(entries, key=lambda e: e.booking_date):
            named = _dates_in(entry.text)
            if not named:
                named = self._undated_day(entry, takings, paid, kind, window)
            targets = [d for d in named if d in takings]
            if len(targets) != 1:
                self._add(
                    point.code,
                    entry.booking_date,
                    BANK_UNEXPLAINED,
                    0,
                    entry.signed_amount,
                    ("kortavräkning" if kind == "card" else "Swish")
                    + " som inte kan knytas till en dag med sådan försäljning: "
                    + _describe(entry),
                )
                continue
            paid[targets[0]].append(entry)
        for d, amount in takings.items():
            if kind == "card":
                self._check_card(point, d, amount, paid.get(d, []), window)
            else:
                self._check_swish(point, d, amount, paid.get(d, []), window)

    def _fee_bounds(self, gross: int) -> tuple[int, int]:
        c = self.config
        low = math.floor(gross * c.card_fee_min_rate) - c.card_fee_slack_ore
        high = math.ceil(gross * c.card_fee_max_rate) + c.card_fee_slack_ore
        return low, high

    def _undated_day(self, entry, takings, paid, kind, window) -> list[date]:
        for d in sorted(takings):
            if d in paid or not self._in_window(d, entry.booking_date, window):
                continue
            if kind == "swish":
                if takings[d] == entry.signed_amount:
                    return [d]
                continue
            low, high = self._fee_bounds(takings[d])
            if low <= takings[d] - entry.signed_amount <= high:
                return [d]
        return []

    def _check_card(self, point, d, gross, entries, window) -> None:
        if not entries:
            if self._window_closed(d, window):
                self._add(point.code, d, CARD_AMOUNT, gross, 0, "ingen kortavräkning har kommit")
            else:
                self._result(point.code, d).pending.append("card")
            return
        net = sum(e.signed_amount for e in entries)
        fee = gross - net
        low, high = self._fee_bounds(gross)
        if not low <= fee <= high:
            c = self.config
            share = f"{fee / gross * 100:.2f}".replace(".", ",") if gross else "–"
            stated = sum(e.charges for e in entries)
            self._add(
                point.code,
                d,
                CARD_AMOUNT,
                gross,
                net,
                f"avgift {format_kronor(fee)} ({share} %) utanför "
                f"{c.card_fee_min_rate * 100:.1f}–{c.card_fee_max_rate * 100:.1f} %".replace(
                    ".", ","
                )
                + (f"; banken anger avgift {format_kronor(stated)}" if stated else "")
                + "; "
                + "; ".join(_describe(e) for e in entries),
            )

    def _check_swish(self, point, d, gross, entries, window) -> None:
        if not entries:
            if self._window_closed(d, window):
                self._add(point.code, d, SWISH_AMOUNT, gross, 0, "inga Swish-betalningar på kontot")
            else:
                self._result(point.code, d).pending.append("swish")
            return
        found = sum(e.signed_amount for e in entries)
        if found != gross:
            self._add(
                point.code,
                d,
                SWISH_AMOUNT,
                gross,
                found,
                "; ".join(_describe(e) for e in entries),
            )

    # -- ledger ---------------------------------------------------------------------------
    def ledger_check(self) -> None:
        c = self.config
        accounts = {c.cash_account: "cash_net", c.card_account: "card", c.swish_account: "swish"}
        by_centre = {p.cost_centre: p.code for p in c.cash_points}
        vouchers: dict[tuple[str, date], dict[str, list[Posting]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for posting in self.ledger.postings(accounts):
            if posting.series != c.till_series:
                continue
            code = by_centre.get(posting.object_in(c.cost_centre_dimension) or "")
            if code is None:
                continue
            vouchers[(code, posting.date)][posting.voucher].append(posting)
        keys = set(vouchers) | {(code, d) for code, days in self.days.items() for d in days}
        for code, d in sorted(keys):
            figures = self.days.get(code, {}).get(d, _Day())
            expected = {acc: getattr(figures, attr) for acc, attr in accounts.items()}
            found_vouchers = vouchers.get((code, d), {})
            expected_total = sum(expected.values())
            if not found_vouchers:
                if any(expected.values()):
                    self._add(
                        code,
                        d,
                        LEDGER_MISSING,
                        expected_total,
                        0,
                        f"ingen verifikation i serie {c.till_series} på kostnadsställe "
                        f"{c.cash_point(code).cost_centre} för Z-rapport "
                        + ", ".join(figures.z_reports),
                    )
                continue
            unique: dict[tuple, str] = {}
            duplicates: list[tuple[str, str]] = []
            for voucher, postings in sorted(found_vouchers.items()):
                signature = (
                    postings[0].voucher_text,
                    tuple(sorted((p.account, p.amount) for p in postings)),
                )
                if signature in unique:
                    duplicates.append((voucher, unique[signature]))
                else:
                    unique[signature] = voucher
            if duplicates:
                booked_total = sum(p.amount for ps in found_vouchers.values() for p in ps)
                self._add(
                    code,
                    d,
                    LEDGER_DUPLICATE,
                    expected_total,
                    booked_total,
                    "; ".join(
                        f"verifikation {a} bokför samma Z-rapport som {b}" for a, b in duplicates
                    ),
                )
            kept = set(unique.values())
            for account, amount in expected.items():
                booked = sum(
                    p.amount
                    for voucher, ps in found_vouchers.items()
                    if voucher in kept
                    for p in ps
                    if p.account == account
                )
                if booked != amount:
                    self._add(
                        code,
                        d,
                        LEDGER_AMOUNT,
                        amount,
                        booked,
                        f"konto {account} ({self.ledger.accounts.get(account, '')}), "
                        f"verifikation " + ", ".join(sorted(kept)),
                    )

    def run(self) -> list[DayResult]:
        by_key = self.classify()
        for point in self.config.cash_points:
            self.deposits(point, by_key.get((point.code, "deposit"), []))
            self.settlements(point, by_key.get((point.code, "card"), []), "card")
            self.settlements(point, by_key.get((point.code, "swish"), []), "swish")
        self.ledger_check()
        return sorted(self.results.values(), key=lambda r: (r.cash_point or "~", r.date))


def reconcile(
    *, bank: BankDocument, ledger: SieFile, till: list[ZReport], config: ReconciliationConfig
) -> list[DayResult]:
    """Per cash point and day: matched, pending, or the differences (see the module docstring)."""
    return _Reconciliation(bank=bank, ledger=ledger, till=till, config=config).run()


def differences(results: list[DayResult]) -> list[Difference]:
    return [d for r in results for d in r.differences]


def month_summary(results: list[DayResult], *, month: str | None = None) -> list[dict]:
    """Per cash point (``None`` for entries of no cash point): days by status, open differences.

    ``month`` (``YYYY-MM``) limits the summary to the days of that month.
    """
    groups: dict[str | None, list[DayResult]] = defaultdict(list)
    for result in results:
        if month and result.date.strftime("%Y-%m") != month:
            continue
        groups[result.cash_point].append(result)
    summary = []
    for code in sorted(groups, key=lambda c: c or "~"):
        rows = groups[code]
        open_differences = [d for r in rows for d in r.differences]
        summary.append(
            {
                "cash_point": code,
                "month": month,
                "days": len(rows),
                "matched": sum(r.status == MATCHED for r in rows),
                "pending": sum(r.status == PENDING for r in rows),
                "with_differences": sum(r.status == DIFFERENCES for r in rows),
                "open_differences": [d.as_dict() for d in open_differences],
                "open_amount": sum(abs(d.expected - d.found) for d in open_differences),
                "by_kind": {
                    kind: sum(d.kind == kind for d in open_differences)
                    for kind in KINDS
                    if any(d.kind == kind for d in open_differences)
                },
            }
        )
    return summary


def month_of(results: list[DayResult]) -> str | None:
    """The month most takings days fall in (for a default summary)."""
    months = [r.date.strftime("%Y-%m") for r in results if r.takings]
    return max(set(months), key=months.count) if months else None


__all__ = [
    "KINDS",
    "DayResult",
    "Difference",
    "differences",
    "month_summary",
    "reconcile",
]
