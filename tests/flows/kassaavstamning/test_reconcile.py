"""Matching per cash point and day: deposits, card, Swish, ledger, unexplained bank entries."""

from datetime import date

from flows.kassaavstamning.camt053 import BankDocument, Entry, Statement
from flows.kassaavstamning.config import DEMO_2026
from flows.kassaavstamning.reconcile import (
    BANK_UNEXPLAINED,
    CARD_AMOUNT,
    DEPOSIT_AMOUNT,
    DEPOSIT_MISSING,
    LEDGER_AMOUNT,
    LEDGER_DUPLICATE,
    LEDGER_MISSING,
    MATCHED,
    PENDING,
    SWISH_AMOUNT,
    differences,
    month_summary,
    reconcile,
)
from flows.kassaavstamning.sie4 import Posting, SieFile, Voucher
from flows.kassaavstamning.till import ZReport

CONFIG = DEMO_2026
MON, TUE, WED, THU, FRI, SAT = (date(2026, 11, d) for d in (2, 3, 4, 5, 6, 7))
NEXT_MON, NEXT_TUE, NEXT_WED = date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 11)
CENTRE = {p.code: p.cost_centre for p in CONFIG.cash_points}


def z(day, point="bibliotek", *, cash=0, card=0, swish=0, refunds=0, till="T-1", number=None):
    return ZReport(
        day, point, till, number or day.toordinal() % 10000, cash, card, swish, refunds, 2
    )


def entry(amount, text, booking, *, credit=True):
    return Entry(
        amount=amount,
        credit=credit,
        status="BOOK",
        booking_date=booking,
        value_date=booking,
        remittance=(text,),
        account_servicer_ref="R",
    )


def bank(*entries, last=date(2026, 11, 30)):
    statement = Statement(
        "S",
        "SE00",
        "SEK",
        date(2026, 11, 1),
        last,
        0,
        sum(e.signed_amount for e in entries),
        tuple(entries),
    )
    return BankDocument("M", "02", (statement,))


def z_voucher(report: ZReport, number: int, *, series="K", cash=None):
    """The Z-report's voucher as the till integration books it (override the cash row)."""
    centre = (("1", CENTRE[report.cash_point]),)
    rows = [
        ("1910", report.cash_net if cash is None else cash),
        ("1580", report.card),
        ("1581", report.swish),
    ]
    rows = [(a, amount) for a, amount in rows if amount]
    rows.append(("3590", -sum(amount for _, amount in rows)))
    text = f"Z {report.till_id} nr {report.z_number}"
    postings = tuple(
        Posting(
            series, str(number), account, centre, amount, report.date, text, report.date, text, 1
        )
        for account, amount in rows
    )
    return Voucher(series, str(number), report.date, text, postings, 1)


def ledger(*vouchers):
    return SieFile("4", "", "", "SEK", {"1910": "Kassa"}, tuple(vouchers))


def books_for(reports):
    return ledger(*(z_voucher(r, n) for n, r in enumerate(reports, start=1)))


def run(reports, entries, *, last=date(2026, 11, 30), books=None):
    return reconcile(
        bank=bank(*entries, last=last),
        ledger=books or books_for(reports),
        till=list(reports),
        config=CONFIG,
    )


def kinds(results):
    return sorted((d.cash_point, d.date, d.kind) for d in differences(results))


def test_a_day_that_adds_up_is_matched():
    """Cash deposited next day, card less a 1.35 % fee, Swish gross, voucher booked: matched."""
    report = z(MON, cash=120000, card=100000, swish=30000)
    results = run(
        [report],
        [
            entry(120000, "DEP BIBL 2026-11-02", TUE),
            entry(98650, "KORT 5501001 2026-11-02", TUE),
            entry(30000, "SWISH 1230001001 2026-11-02", MON),
        ],
    )
    (result,) = results
    assert (result.cash_point, result.date, result.status) == ("bibliotek", MON, MATCHED)
    assert result.takings == {"cash_net": 120000, "card": 100000, "swish": 30000}


def test_one_deposit_for_three_days():
    """A deposit naming three days matches their summed cash; each day is matched."""
    reports = [z(d, cash=c) for d, c in ((THU, 10000), (FRI, 20000), (SAT, 30500))]
    results = run(reports, [entry(60500, "DEP BIBL 2026-11-05 2026-11-06 2026-11-07", NEXT_MON)])
    assert [r.status for r in results] == [MATCHED] * 3


def test_short_multi_day_deposit_is_one_difference_on_its_last_day():
    """A deposit 200 kr short for three days is one deposit_amount, on the last day covered."""
    reports = [z(d, cash=c) for d, c in ((THU, 10000), (FRI, 20000), (SAT, 30500))]
    results = run(reports, [entry(40500, "dep bibl 2026-11-05 2026-11-06 2026-11-07", NEXT_MON)])
    (diff,) = differences(results)
    assert (diff.date, diff.kind, diff.expected, diff.found) == (SAT, DEPOSIT_AMOUNT, 60500, 40500)
    assert "2026-11-05, 2026-11-06, 2026-11-07" in diff.detail


def test_undated_deposit_spanning_two_days_is_matched_by_amount():
    """A bag without dates that equals Monday + Tuesday is matched to those two days."""
    reports = [z(d, "reception", cash=c) for d, c in ((MON, 41000), (TUE, 25000), (WED, 37000))]
    results = run(
        reports,
        [
            entry(66000, "DEP RECE PASE 7701", THU),
            entry(37000, "DEP RECE PASE 7702", NEXT_MON),
        ],
    )
    assert [r.status for r in results] == [MATCHED] * 3


def test_undated_deposit_prefers_the_earliest_days():
    """When two sets of days fit, the one with the earliest days is taken."""
    reports = [z(d, "reception", cash=10000) for d in (MON, TUE, WED)]
    results = run(
        reports, [entry(20000, "DEP RECE PASE 1", THU), entry(10000, "DEP RECE PASE 2", FRI)]
    )
    assert kinds(results) == []


def test_undated_deposit_that_fits_no_days_is_unexplained_and_days_missing():
    """A bag whose amount fits no set of days is unexplained, and the days stay undeposited."""
    reports = [z(MON, "reception", cash=41000)]
    results = run(reports, [entry(40000, "DEP RECE PASE 7701", WED)])
    assert kinds(results) == [
        ("reception", MON, DEPOSIT_MISSING),
        ("reception", WED, BANK_UNEXPLAINED),
    ]


def test_refunds_are_deducted_from_the_cash_to_deposit():
    """The deposit must equal cash less cash refunds; depositing the gross cash is a difference."""
    report = z(MON, cash=50000, refunds=4500)
    assert kinds(run([report], [entry(45500, "DEP BIBL 2026-11-02", TUE)])) == []
    (diff,) = differences(run([report], [entry(50000, "DEP BIBL 2026-11-02", TUE)]))
    assert (diff.kind, diff.expected, diff.found) == (DEPOSIT_AMOUNT, 45500, 50000)


def test_rounding_within_one_krona_is_accepted_and_noted():
    """±1 kr is within the tolerance (noted on the day); 1,01 kr is a difference."""
    report = z(MON, cash=50000)
    (result,) = run([report], [entry(49900, "DEP BIBL 2026-11-02", TUE)])
    assert result.status == MATCHED
    assert "avrundad -1,00 kr" in result.notes[0]
    (diff,) = differences(run([report], [entry(49899, "DEP BIBL 2026-11-02", TUE)]))
    assert diff.kind == DEPOSIT_AMOUNT


def test_missing_deposit_after_three_banking_days():
    """Friday's cash not deposited by Wednesday (weekend skipped) is missing; before that, pending."""
    report = z(FRI, "simhall", cash=70000)
    books = books_for([report])
    (pending,) = run([report], [], last=NEXT_TUE, books=books)
    assert pending.status == PENDING and pending.pending == ["deposit"]
    (diff,) = differences(run([report], [], last=NEXT_WED, books=books))
    assert (diff.kind, diff.expected, diff.found) == (DEPOSIT_MISSING, 70000, 0)
    assert "senast 2026-11-11" in diff.detail


def test_deposit_window_spans_christmas():
    """Money for 23 December is due by 30 December: the days 24–27 are not banking days."""
    day = date(2026, 12, 23)
    report = z(day, "reception", cash=30000)
    books = books_for([report])
    (result,) = reconcile(
        bank=bank(last=date(2026, 12, 29)), ledger=books, till=[report], config=CONFIG
    )
    assert result.status == PENDING
    (result,) = reconcile(
        bank=bank(entry(30000, "DEP RECE PASE 9", date(2026, 12, 30)), last=date(2026, 12, 30)),
        ledger=books,
        till=[report],
        config=CONFIG,
    )
    assert result.status == MATCHED


def test_card_fee_outside_range_is_a_difference():
    """A 6 % fee is outside 0.5–2.5 %: card_amount with the takings and the amount paid."""
    report = z(MON, card=100000)
    (diff,) = differences(run([report], [entry(94000, "KORT 5501001 2026-11-02", TUE)]))
    assert (diff.kind, diff.expected, diff.found) == (CARD_AMOUNT, 100000, 94000)
    assert "6,00 %" in diff.detail
    # No fee at all is also outside the range (below the minimum less the slack).
    (diff,) = differences(run([report], [entry(100000, "KORT 5501001 2026-11-02", TUE)]))
    assert diff.kind == CARD_AMOUNT


def test_card_settlement_without_date_goes_to_the_day_it_fits():
    """An undated settlement in the window whose fee fits is matched to the earliest such day."""
    reports = [z(MON, card=100000), z(TUE, card=50000)]
    results = run(
        reports,
        [entry(49300, "KORT 5501001 BATCH 2", WED), entry(98650, "KORT 5501001 BATCH 1", TUE)],
    )
    assert kinds(results) == []


def test_missing_card_settlement():
    """No settlement once the window has closed: card_amount with found 0."""
    (diff,) = differences(run([z(MON, card=100000)], []))
    assert (diff.kind, diff.found) == (CARD_AMOUNT, 0)


def test_swish_must_be_paid_gross():
    """Swish is compared exactly: 1 öre off is swish_amount."""
    report = z(SAT, swish=30000)
    assert kinds(run([report], [entry(30000, "SWISH 1230001001 2026-11-07", NEXT_MON)])) == []
    (diff,) = differences(run([report], [entry(29999, "SWISH 1230001001 2026-11-07", NEXT_MON)]))
    assert (diff.kind, diff.expected, diff.found) == (SWISH_AMOUNT, 30000, 29999)


def test_ledger_missing_duplicate_and_amount():
    """No voucher, the same voucher twice, and a voucher with the gross cash are each found."""
    mon, tue, wed = z(MON, cash=10000), z(TUE, cash=20000, refunds=500), z(WED, cash=30000)
    books = ledger(z_voucher(tue, 1, cash=20000), z_voucher(wed, 2), z_voucher(wed, 3))
    entries = [
        entry(10000, "DEP BIBL 2026-11-02", TUE),
        entry(19500, "DEP BIBL 2026-11-03", WED),
        entry(30000, "DEP BIBL 2026-11-04", THU),
    ]
    results = run([mon, tue, wed], entries, books=books)
    by_kind = {d.kind: d for d in differences(results)}
    assert sorted(by_kind) == [LEDGER_AMOUNT, LEDGER_DUPLICATE, LEDGER_MISSING]
    assert (by_kind[LEDGER_MISSING].date, by_kind[LEDGER_MISSING].expected) == (MON, 10000)
    assert (
        by_kind[LEDGER_AMOUNT].date,
        by_kind[LEDGER_AMOUNT].expected,
        by_kind[LEDGER_AMOUNT].found,
    ) == (TUE, 19500, 20000)
    duplicate = by_kind[LEDGER_DUPLICATE]
    assert (duplicate.date, duplicate.expected, duplicate.found) == (WED, 30000, 60000)
    assert "K 3" in duplicate.detail and "K 2" in duplicate.detail


def test_two_tills_two_vouchers_are_not_a_duplicate():
    """Two tills of one cash point each book their own voucher: summed, not duplicates."""
    a = z(MON, "simhall", cash=10000, till="BAD-1", number=1)
    b = z(MON, "simhall", cash=10000, till="BAD-2", number=2)
    results = run([a, b], [entry(20000, "DEP BAD 2026-11-02", TUE)])
    assert kinds(results) == []


def test_other_series_do_not_count_as_z_report_postings():
    """A deposit voucher (series B) crediting the cash account is not the Z-report's booking."""
    report = z(MON, cash=10000)
    books = ledger(z_voucher(report, 1, series="B"))
    (diff,) = differences(run([report], [entry(10000, "DEP BIBL 2026-11-02", TUE)], books=books))
    assert diff.kind == LEDGER_MISSING


def test_bank_entries_nobody_can_explain():
    """Unknown text, and a deposit for a day without cash takings, are bank_unexplained."""
    report = z(MON, cash=10000)
    results = run(
        [report],
        [
            entry(10000, "DEP BIBL 2026-11-02", TUE),
            entry(150000, "INBETALNING 4471", WED),
            entry(5000, "DEP BIBL 2026-11-08", NEXT_MON),
            entry(2500, "KONTOAVGIFT", NEXT_MON, credit=False),
        ],
    )
    unexplained = [d for d in differences(results) if d.kind == BANK_UNEXPLAINED]
    assert [(d.cash_point, d.found) for d in unexplained] == [
        ("bibliotek", 5000),
        (None, 150000),
        (None, -2500),
    ]


def test_month_summary_counts_open_differences():
    """Per cash point: days by status, the open differences and their sum, by kind."""
    reports = [z(MON, cash=10000), z(TUE, cash=10000)]
    results = run(reports, [entry(10000, "DEP BIBL 2026-11-02", TUE)])
    (row,) = month_summary(results, month="2026-11")
    assert (row["cash_point"], row["days"], row["matched"], row["with_differences"]) == (
        "bibliotek",
        2,
        1,
        1,
    )
    assert row["open_amount"] == 10000
    assert row["by_kind"] == {DEPOSIT_MISSING: 1}
    assert month_summary(results, month="2026-12") == []
