"""The shipped demo month: reproducible from its script, and exactly the planted differences."""

from collections import Counter
from datetime import date

import pytest

from flows.kassaavstamning import demo_data
from flows.kassaavstamning.camt053 import parse_camt053
from flows.kassaavstamning.config import DEMO_2026
from flows.kassaavstamning.reconcile import MATCHED, differences, month_summary, reconcile
from flows.kassaavstamning.sie4 import parse_sie4
from flows.kassaavstamning.till import parse_z_reports

FOLDER = demo_data.DEFAULT_FOLDER


@pytest.fixture(scope="module")
def month():
    return demo_data.build()


@pytest.fixture(scope="module")
def results():
    bank = parse_camt053((FOLDER / demo_data.BANK_FILE).read_bytes())
    ledger = parse_sie4((FOLDER / demo_data.LEDGER_FILE).read_bytes())
    till = parse_z_reports((FOLDER / demo_data.TILL_FILE).read_bytes(), cash_points=DEMO_2026.codes)
    return reconcile(bank=bank, ledger=ledger, till=till, config=DEMO_2026)


def test_shipped_files_are_what_the_script_writes(month):
    """data/kassaavstamning/ holds byte for byte what demo_data.build() produces."""
    assert (FOLDER / demo_data.BANK_FILE).read_bytes() == month.bank
    assert (FOLDER / demo_data.LEDGER_FILE).read_bytes() == month.ledger
    assert (FOLDER / demo_data.TILL_FILE).read_bytes() == month.till


def test_files_are_in_their_formats(month):
    """The ledger is CP437 with Swedish letters; the till file has a BOM and decimal commas."""
    assert "Övriga försäljningsintäkter".encode("cp437") in month.ledger
    assert month.till.startswith(b"\xef\xbb\xbf") and b";0,00" in month.till
    assert b"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" in month.bank


def test_reconcile_finds_exactly_the_planted_differences(results):
    """Six differences, one of each planted kind, on the planted cash point and day."""
    found = sorted(((d.cash_point or ""), d.date, d.kind) for d in differences(results))
    planted = sorted(((c or ""), d, k) for c, d, k in demo_data.PLANTED)
    assert found == planted


def test_planted_amounts(results):
    """The short deposit is 200 kr short, the missing one has nothing, the stray credit 1 500 kr."""
    by_kind = {d.kind: d for d in differences(results)}
    short = by_kind["deposit_amount"]
    assert short.expected - short.found == demo_data.SHORT_BY
    assert by_kind["deposit_missing"].found == 0 and by_kind["deposit_missing"].expected > 0
    assert by_kind["bank_unexplained"].found == demo_data.UNEXPLAINED[1]
    assert by_kind["ledger_missing"].found == 0
    duplicate = by_kind["ledger_duplicate"]
    assert duplicate.found > duplicate.expected
    card = by_kind["card_amount"]
    assert round((card.expected - card.found) / card.expected, 3) == 0.06


def test_every_other_day_is_matched(results):
    """All 76 takings days except the five with differences are matched; none is pending."""
    statuses = Counter(r.status for r in results if r.cash_point)
    assert statuses == {MATCHED: 71, "differences": 5}
    rounded = next(r for r in results if (r.cash_point, r.date) == demo_data.ROUNDED_DEPOSIT[:2])
    assert rounded.status == MATCHED and rounded.notes


def test_month_summary(results):
    """The month-end summary lists the open differences per cash point."""
    summary = {row["cash_point"]: row for row in month_summary(results, month="2026-11")}
    assert {k: len(v["open_differences"]) for k, v in summary.items()} == {
        "bibliotek": 2,
        "simhall": 2,
        "reception": 1,
        None: 1,
    }
    assert summary["simhall"]["by_kind"] == {"deposit_missing": 1, "ledger_duplicate": 1}
    assert summary["bibliotek"]["days"] == 25  # Monday–Saturday in November 2026
    assert all(row["pending"] == 0 for row in summary.values())


def test_no_takings_on_closed_days(month):
    """The library is closed on Sundays and the reception at weekends."""
    till = parse_z_reports(month.till)
    assert not [r for r in till if r.cash_point == "bibliotek" and r.date.weekday() == 6]
    assert not [r for r in till if r.cash_point == "reception" and r.date.weekday() >= 5]
    assert min(r.date for r in till) == date(2026, 11, 1)
