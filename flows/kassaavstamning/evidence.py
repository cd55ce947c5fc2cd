"""What a difference day's material shows besides the differences: the day's Z-reports, the
bank entries and the vouchers involved. Pure functions on the parsed files.

"Involved" is deliberately wide (a controller would rather see one entry too many):
for a cash point, every booked entry carrying one of its references that either names
the day or, naming no day, was booked within the longest money window after it; for
entries of no cash point, those booked that day that carry no cash point's reference;
and every voucher of the till series on the cash point's cost centre dated that day.
"""

from __future__ import annotations

from datetime import date

from .bankdays import banking_day_window
from .camt053 import BankDocument, Entry
from .config import ReconciliationConfig
from .reconcile import _dates_in, _normalise
from .sie4 import SieFile
from .till import ZReport


def _entry_dict(entry: Entry) -> dict:
    return {
        "booking_date": entry.booking_date.isoformat(),
        "value_date": entry.value_date.isoformat() if entry.value_date else None,
        "amount": entry.signed_amount,
        "text": entry.text,
        "reference": entry.account_servicer_ref or entry.entry_ref,
        "charges": entry.charges,
    }


def bank_entries_for(
    *, bank: BankDocument, config: ReconciliationConfig, cash_point: str | None, day: date
) -> list[dict]:
    refs_of = {
        p.code: [_normalise(r) for r in (p.deposit_ref, p.card_ref, p.swish_ref)]
        for p in config.cash_points
    }
    last_window = max(config.deposit_window[1], config.card_window[1], config.swish_window[1])
    _, until = banking_day_window(day, 0, last_window)
    chosen = []
    for entry in bank.entries:
        if not entry.booked:
            continue
        text = _normalise(entry.text)
        owner = next((c for c, refs in refs_of.items() if any(r in text for r in refs)), None)
        if cash_point is None:
            if owner is None and entry.booking_date == day:
                chosen.append(entry)
            continue
        if owner != cash_point:
            continue
        named = _dates_in(entry.text)
        if day in named or (not named and day <= entry.booking_date <= until):
            chosen.append(entry)
    return [_entry_dict(e) for e in sorted(chosen, key=lambda e: (e.booking_date, e.text))]


def vouchers_for(
    *, ledger: SieFile, config: ReconciliationConfig, cash_point: str | None, day: date
) -> list[dict]:
    point = config.cash_point(cash_point) if cash_point else None
    if point is None:
        return []
    found = []
    for voucher in ledger.vouchers:
        if voucher.series != config.till_series or voucher.date != day:
            continue
        if not any(
            p.object_in(config.cost_centre_dimension) == point.cost_centre
            for p in voucher.postings
        ):
            continue
        found.append(
            {
                "voucher": f"{voucher.series} {voucher.number}",
                "date": voucher.date.isoformat(),
                "text": voucher.text,
                "postings": [
                    {
                        "account": p.account,
                        "account_name": ledger.accounts.get(p.account, ""),
                        "amount": p.amount,
                    }
                    for p in voucher.postings
                ],
            }
        )
    return found


def z_reports_for(*, till: list[ZReport], cash_point: str | None, day: date) -> list[dict]:
    return [
        {
            "till_id": r.till_id,
            "z_number": r.z_number,
            "cash": r.cash,
            "card": r.card,
            "swish": r.swish,
            "refunds": r.refunds,
            "cash_net": r.cash_net,
        }
        for r in till
        if r.cash_point == cash_point and r.date == day
    ]
