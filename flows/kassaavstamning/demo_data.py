"""The synthetic demo month (November 2026) for three cash points, with planted differences.

``python -m flows.kassaavstamning.demo_data [FOLDER]`` writes the three files into
``data/kassaavstamning/`` (or FOLDER). The numbers come from a seeded random generator,
so the files are the same on every run; the tests regenerate them and compare bytes.

How the money moves (all synthetic):

- *bibliotek* (Stadsbiblioteket, one till, open Monday–Saturday) deposits twice a week:
  Monday–Wednesday's cash on Thursday, Thursday–Saturday's on Monday, each deposit
  naming the days it covers ("DEP BIBL 2026-11-02 2026-11-03 2026-11-04").
- *simhall* (Simhallen, two tills, open every day) deposits each day's cash on the next
  banking day, naming the day.
- *reception* (Kommunhusets reception, one till, Monday–Friday) deposits bags with only a
  bag number (Monday+Tuesday on Thursday, Wednesday+Thursday on Monday, Friday on
  Tuesday): these are matched by amount.
- Card takings are settled on the next banking day less a 1.35 % fee; Swish is paid gross
  on the day (on the next banking day for weekends).
- The ledger books every Z-report in series K (cost centre = cash point), deposits and
  settlements in series B.

Planted (``PLANTED`` lists them; the reconciliation must find exactly these): a deposit
that never arrives, a deposit 200 kr short, a card settlement with a 6 % fee, a Z-report
voucher missing from the ledger, one booked twice, and a credit nobody can explain. Also
planted but *not* a difference: a deposit 1 kr under the counted cash (within the
rounding tolerance).
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from .bankdays import add_banking_days, is_banking_day
from .config import DEMO_2026
from .writers import (
    EntrySpec,
    StatementSpec,
    TransSpec,
    VoucherSpec,
    camt053_xml,
    sie4_bytes,
    z_report_csv,
)

MONTH_START = date(2026, 11, 1)
MONTH_END = date(2026, 11, 30)
STATEMENT_END = date(2026, 12, 4)
SEED = 202611
CARD_FEE_RATE_PERMILLE = 13.5

BANK_FILE = "november-2026.camt053.xml"
LEDGER_FILE = "november-2026.se"
TILL_FILE = "november-2026-z-rapporter.csv"

# (cash_point, date, kind) of each planted difference.
MISSING_DEPOSIT = ("simhall", date(2026, 11, 12))
SHORT_DEPOSIT_DAYS = ("bibliotek", (date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 21)))
SHORT_BY = 20000
HIGH_FEE = ("reception", date(2026, 11, 10))
MISSING_VOUCHER = ("bibliotek", date(2026, 11, 24))
DUPLICATED_VOUCHER = ("simhall", date(2026, 11, 17), "BAD-2")
UNEXPLAINED = (date(2026, 11, 16), 150000, "INBETALNING 4471 FAKTURANR SAKNAS")
ROUNDED_DEPOSIT = ("simhall", date(2026, 11, 5), -100)

PLANTED = (
    ("simhall", date(2026, 11, 12), "deposit_missing"),
    ("bibliotek", date(2026, 11, 21), "deposit_amount"),
    ("reception", date(2026, 11, 10), "card_amount"),
    ("bibliotek", date(2026, 11, 24), "ledger_missing"),
    ("simhall", date(2026, 11, 17), "ledger_duplicate"),
    (None, date(2026, 11, 16), "bank_unexplained"),
)

TILLS = {"bibliotek": ("BIBL-1",), "simhall": ("BAD-1", "BAD-2"), "reception": ("RECE-1",)}
OPEN_WEEKDAYS = {"bibliotek": range(0, 6), "simhall": range(0, 7), "reception": range(0, 5)}
Z_START = {"BIBL-1": 1040, "BAD-1": 2031, "BAD-2": 877, "RECE-1": 310}
REVENUE_ACCOUNT = {"bibliotek": "3590", "simhall": "3510", "reception": "3590"}


@dataclass
class DemoMonth:
    bank: bytes
    ledger: bytes
    till: bytes


def _days():
    day = MONTH_START
    while day <= MONTH_END:
        yield day
        day += timedelta(days=1)


def _z_rows(rng: random.Random) -> list[dict]:
    rows = []
    z = dict(Z_START)
    ranges = {  # (cash, card, swish) in whole kronor
        "bibliotek": ((150, 1200), (400, 3500), (100, 900)),
        "simhall": ((800, 4200), (2500, 9800), (600, 2600)),
        "reception": ((100, 900), (200, 2400), (50, 700)),
    }
    for day in _days():
        for point, tills in TILLS.items():
            if day.weekday() not in OPEN_WEEKDAYS[point]:
                continue
            (c_lo, c_hi), (k_lo, k_hi), (s_lo, s_hi) = ranges[point]
            for till_id in tills:
                z[till_id] += 1
                cash = rng.randint(c_lo, c_hi) * 100  # cash is whole kronor (no öre coins)
                refunds = rng.choice([0, 0, 0, 0, rng.randint(2, 20) * 1000])
                rows.append(
                    {
                        "date": day.isoformat(),
                        "cash_point": point,
                        "till_id": till_id,
                        "z_number": z[till_id],
                        "cash": cash,
                        "card": rng.randint(k_lo * 100, k_hi * 100),
                        "swish": rng.randint(s_lo, s_hi) * 100,
                        "refunds": min(refunds, cash),
                    }
                )
    return rows


def _per_day(rows, point):
    days: dict[date, dict[str, int]] = {}
    for row in rows:
        if row["cash_point"] != point:
            continue
        d = days.setdefault(date.fromisoformat(row["date"]), {"cash_net": 0, "card": 0, "swish": 0})
        d["cash_net"] += row["cash"] - row["refunds"]
        d["card"] += row["card"]
        d["swish"] += row["swish"]
    return days


def _deposit_groups(point: str, days: list[date]) -> list[tuple[tuple[date, ...], date]]:
    """(days covered, booking date) of each cash deposit of the cash point."""
    groups: list[tuple[tuple[date, ...], date]] = []
    if point == "simhall":
        return [((d,), add_banking_days(d, 1)) for d in days]
    if point == "bibliotek":
        batches = {}
        for d in days:
            key = (d.isocalendar()[1], 0 if d.weekday() <= 2 else 1)
            batches.setdefault(key, []).append(d)
        for (_, half), batch in sorted(batches.items()):
            last = max(batch)
            monday_next = last + timedelta(days=7 - last.weekday())
            thursday = last + timedelta(days=3 - last.weekday())
            booking = thursday if half == 0 else monday_next
            groups.append((tuple(batch), booking))
        return groups
    # reception: Mon+Tue on Thursday, Wed+Thu on next Monday, Fri on next Tuesday
    batches = {}
    for d in days:
        half = {0: 0, 1: 0, 2: 1, 3: 1, 4: 2}[d.weekday()]
        batches.setdefault((d.isocalendar()[1], half), []).append(d)
    for (_, half), batch in sorted(batches.items()):
        first = min(batch)
        monday = first - timedelta(days=first.weekday())
        booking = monday + timedelta(days=(3, 7, 8)[half])
        groups.append((tuple(batch), booking))
    return groups


def build() -> DemoMonth:
    rng = random.Random(SEED)
    rows = _z_rows(rng)
    config = DEMO_2026
    entries: list[EntrySpec] = []
    vouchers: list[VoucherSpec] = []
    numbers = {"K": 0, "B": 0}

    def voucher(series, day, text, trans):
        numbers[series] += 1
        vouchers.append(VoucherSpec(series, numbers[series], day, text, trans))

    bank_ref = iter(range(900001, 999999))
    for point in config.cash_points:
        centre = (("1", point.cost_centre),)
        days = _per_day(rows, point.code)
        cash_days = sorted(d for d, f in days.items() if f["cash_net"] > 0)
        for covered, booking in _deposit_groups(point.code, cash_days):
            if (point.code, covered[0]) == MISSING_DEPOSIT:
                continue
            amount = sum(days[d]["cash_net"] for d in covered)
            if (point.code, covered) == SHORT_DEPOSIT_DAYS:
                amount -= SHORT_BY
            if (point.code, covered[0]) == ROUNDED_DEPOSIT[:2]:
                amount += ROUNDED_DEPOSIT[2]
            if point.code == "reception":
                text = f"{point.deposit_ref} PASE {7700 + len(entries)}"
            else:
                text = point.deposit_ref + " " + " ".join(d.isoformat() for d in covered)
            entries.append(EntrySpec(amount, True, booking, text, f"BG{next(bank_ref)}"))
            voucher(
                "B",
                booking,
                f"Insättning {point.name}",
                [
                    TransSpec(config.bank_account, amount),
                    TransSpec(config.cash_account, -amount, centre),
                ],
            )
        for d, f in sorted(days.items()):
            rate = 60 if (point.code, d) == HIGH_FEE else CARD_FEE_RATE_PERMILLE
            fee = round(f["card"] * rate / 1000)
            booking = add_banking_days(d, 1)
            entries.append(
                EntrySpec(
                    f["card"] - fee,
                    True,
                    booking,
                    f"{point.card_ref} {d.isoformat()} AVRAKNING",
                    f"CA{next(bank_ref)}",
                    charges=fee,
                )
            )
            voucher(
                "B",
                booking,
                f"Kortavräkning {point.name} {d.isoformat()}",
                [
                    TransSpec(config.bank_account, f["card"] - fee),
                    TransSpec("6570", fee, centre),
                    TransSpec(config.card_account, -f["card"], centre),
                ],
            )
            swish_booking = d if is_banking_day(d) else add_banking_days(d, 1)
            entries.append(
                EntrySpec(
                    f["swish"],
                    True,
                    swish_booking,
                    f"{point.swish_ref} {d.isoformat()} SAMLINGSPOST",
                    f"SW{next(bank_ref)}",
                )
            )
            voucher(
                "B",
                swish_booking,
                f"Swish {point.name} {d.isoformat()}",
                [
                    TransSpec(config.bank_account, f["swish"]),
                    TransSpec(config.swish_account, -f["swish"], centre),
                ],
            )
    entries.append(
        EntrySpec(UNEXPLAINED[1], True, UNEXPLAINED[0], UNEXPLAINED[2], f"BG{next(bank_ref)}")
    )

    # Z-report vouchers (series K), in date order, one per till and day.
    for row in sorted(rows, key=lambda r: (r["date"], r["till_id"])):
        point = config.cash_point(row["cash_point"])
        d = date.fromisoformat(row["date"])
        if (point.code, d) == MISSING_VOUCHER:
            continue
        centre = (("1", point.cost_centre),)
        cash_net = row["cash"] - row["refunds"]
        trans = [
            TransSpec(config.cash_account, cash_net, centre),
            TransSpec(config.card_account, row["card"], centre),
            TransSpec(config.swish_account, row["swish"], centre),
            TransSpec(
                REVENUE_ACCOUNT[point.code], -(cash_net + row["card"] + row["swish"]), centre
            ),
        ]
        trans = [t for t in trans if t.amount]
        text = f"Z-rapport {row['till_id']} nr {row['z_number']} - {point.name}"
        if row["refunds"]:
            text += f", återköp {row['refunds'] // 100} kr"
        if point.code == "simhall" and d.weekday() == 4:
            text += ' "kvällsbad"'
        voucher("K", d, text, trans)
        if (point.code, d, row["till_id"]) == DUPLICATED_VOUCHER:
            voucher("K", d, text, trans)

    # Number each series in date order, as a ledger does.
    vouchers.sort(key=lambda v: (v.series, v.date, v.number))
    for series in numbers:
        in_series = [v for v in vouchers if v.series == series]
        for n, v in enumerate(in_series, start=1):
            v.number = n
    statements = []
    balance = 1250000  # opening balance of the cash-collection account, öre
    day = MONTH_START
    while day <= STATEMENT_END:
        if is_banking_day(day):
            todays = [e for e in entries if e.booking_date == day]
            spec = StatementSpec(f"STMT-{day:%Y%m%d}", day, day, balance, todays)
            balance = spec.computed_closing
            statements.append(spec)
        day += timedelta(days=1)
    assert sum(len(s.entries) for s in statements) == len(entries), "entry outside statements"

    ledger = sie4_bytes(
        company="Exempelby kommun, Ekonomi- och redovisningsenheten",
        accounts={
            "1580": "Fordringar för kontokort",
            "1581": "Swishfordringar",
            "1910": "Kassa (dagskassor)",
            "1930": "Företagskonto kassainsättningar",
            "3510": "Entréavgifter simhall",
            "3590": "Övriga försäljningsintäkter",
            "6570": "Bankkostnader, kortinlösen",
        },
        dimensions={"1": "Kostnadsställe"},
        objects=[("1", p.cost_centre, p.name) for p in config.cash_points],
        vouchers=vouchers,
    )
    return DemoMonth(
        bank=camt053_xml(statements, version="02", message_id="RF-CAMT-2026-11"),
        ledger=ledger,
        till=z_report_csv(rows),
    )


def write(folder: Path) -> list[Path]:
    month = build()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in (
        (BANK_FILE, month.bank),
        (LEDGER_FILE, month.ledger),
        (TILL_FILE, month.till),
    ):
        path = folder / name
        path.write_bytes(content)
        paths.append(path)
    return paths


DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "data" / "kassaavstamning"

if __name__ == "__main__":
    for written in write(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER):
        print(written)
