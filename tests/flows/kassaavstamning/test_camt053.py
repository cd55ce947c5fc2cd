"""camt.053 reader: balances, entries, references, and refusal of wrong files."""

from datetime import date

import pytest

from flows.kassaavstamning import errors
from flows.kassaavstamning.camt053 import parse_camt053
from flows.kassaavstamning.writers import EntrySpec, StatementSpec, camt053_xml

DAY = date(2026, 11, 3)


def _statement(**overrides) -> StatementSpec:
    values = dict(
        statement_id="S1",
        from_date=DAY,
        to_date=DAY,
        opening=100000,
        entries=[
            EntrySpec(
                123450, True, DAY, "DEP BIBL 2026-11-02", "BG1", value_date=date(2026, 11, 4)
            ),
            EntrySpec(98765, True, DAY, "KORT 5501001 2026-11-02", "CA2", charges=1335),
            EntrySpec(5000, False, DAY, "AVGIFT", "X3"),
        ],
    )
    values.update(overrides)
    return StatementSpec(**values)


@pytest.mark.parametrize("version", ["02", "08"])
def test_reads_balances_and_entries(version):
    """Both versions give the same öre amounts, signs, dates, texts and stated charges."""
    document = parse_camt053(camt053_xml([_statement()], version=version))
    assert document.version == version
    (statement,) = document.statements
    assert statement.opening_balance == 100000
    assert statement.closing_balance == 100000 + 123450 + 98765 - 5000
    deposit, card, fee = statement.entries
    assert (deposit.amount, deposit.credit, deposit.signed_amount) == (123450, True, 123450)
    assert deposit.booking_date == DAY and deposit.value_date == date(2026, 11, 4)
    assert deposit.remittance == ("DEP BIBL 2026-11-02",)
    assert deposit.account_servicer_ref == "BG1"
    assert deposit.booked
    assert card.charges == 1335
    assert fee.signed_amount == -5000
    assert document.last_date == DAY


def test_amounts_are_exact_integers():
    """0.10 + 0.20 kr is exactly 30 öre (Decimal, not float)."""
    spec = _statement(
        entries=[EntrySpec(10, True, DAY, "a", "1"), EntrySpec(20, True, DAY, "b", "2")]
    )
    statement = parse_camt053(camt053_xml([spec])).statements[0]
    assert [e.amount for e in statement.entries] == [10, 20]
    assert all(isinstance(e.amount, int) for e in statement.entries)


def test_other_currency_is_refused():
    """A EUR statement is refused: only SEK is reconciled."""
    data = camt053_xml([_statement()], currency="EUR")
    with pytest.raises(errors.CamtError) as caught:
        parse_camt053(data, currency="SEK")
    assert caught.value.code == errors.CAMT_CURRENCY
    assert "EUR" in str(caught.value)


def test_one_entry_in_other_currency_is_refused():
    """A single EUR entry in a SEK statement is refused with its line."""
    spec = _statement(entries=[EntrySpec(100, True, DAY, "x", "1", currency="EUR")])
    with pytest.raises(errors.CamtError) as caught:
        parse_camt053(camt053_xml([spec]))
    assert caught.value.code == errors.CAMT_CURRENCY


def test_unbalanced_statement_is_refused():
    """Opening + credits − debits ≠ closing is refused, naming the figures."""
    spec = _statement(closing=100000 + 123450 + 98765 - 5000 + 1)
    with pytest.raises(errors.CamtError) as caught:
        parse_camt053(camt053_xml([spec]))
    assert caught.value.code == errors.CAMT_UNBALANCED
    assert "S1" in caught.value.message and "closing balance" in caught.value.message


def test_pending_entries_do_not_count_in_balance():
    """A PDNG entry is read but left out of the balance check (it is not booked yet)."""
    spec = _statement(entries=[EntrySpec(700, True, DAY, "x", "1", status="PDNG")], closing=100000)
    (entry,) = parse_camt053(camt053_xml([spec])).statements[0].entries
    assert not entry.booked


def test_debit_opening_balance():
    """A DBIT balance is negative: an overdrawn account still adds up."""
    spec = _statement(opening=-5000, entries=[EntrySpec(8000, True, DAY, "x", "1")])
    statement = parse_camt053(camt053_xml([spec])).statements[0]
    assert (statement.opening_balance, statement.closing_balance) == (-5000, 3000)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not xml at all", errors.CAMT_NOT_XML),
        (b"<Document><BkToCstmrStmt/></Document>", errors.CAMT_WRONG_NAMESPACE),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"/>',
            errors.CAMT_WRONG_NAMESPACE,
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.99"/>',
            errors.CAMT_WRONG_NAMESPACE,
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            b"<BkToCstmrNtfctn/></Document>",
            errors.CAMT_WRONG_ROOT,
        ),
        (
            b'<Statement xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            b"<BkToCstmrStmt/></Statement>",
            errors.CAMT_WRONG_ROOT,
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
            b"<GrpHdr><MsgId>M</MsgId></GrpHdr></BkToCstmrStmt></Document>",
            errors.CAMT_SHAPE,
        ),
    ],
    ids=[
        "not-xml",
        "no-namespace",
        "camt054",
        "unknown-version",
        "notification",
        "root",
        "no-stmt",
    ],
)
def test_wrong_documents_are_refused(data, code):
    """Non-XML, another message or version, another root and a document without statements."""
    with pytest.raises(errors.CamtError) as caught:
        parse_camt053(data)
    assert caught.value.code == code


def _mutate(old: bytes, new: bytes) -> bytes:
    data = camt053_xml([_statement()])
    assert old in data
    return data.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        (b'<Amt Ccy="SEK">1234.50</Amt>', b'<Amt Ccy="SEK">1234.505</Amt>', errors.CAMT_AMOUNT),
        (b'<Amt Ccy="SEK">1234.50</Amt>', b'<Amt Ccy="SEK">12,34</Amt>', errors.CAMT_AMOUNT),
        (
            b"<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>",
            b"<CdtDbtInd>PLUS</CdtDbtInd>\n        <Sts>",
            errors.CAMT_SHAPE,
        ),
        (b"<Dt>2026-11-04</Dt>", b"<Dt>2026-11-31</Dt>", errors.CAMT_DATE),
        (b"<Sts>BOOK</Sts>", b"<Sts>DONE</Sts>", errors.CAMT_SHAPE),
        (b"<Cd>CLBD</Cd>", b"<Cd>CLAV</Cd>", errors.CAMT_SHAPE),
    ],
    ids=["three-decimals", "decimal-comma", "indicator", "date", "status", "no-closing"],
)
def test_malformed_elements_are_refused(old, new, code):
    """A bad amount, indicator, date, status or a missing closing balance is a named error."""
    with pytest.raises(errors.CamtError) as caught:
        parse_camt053(_mutate(old, new))
    assert caught.value.code == code


def test_entities_are_not_expanded():
    """An external entity is not fetched (no network, no file reads)."""
    data = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        b"<GrpHdr><MsgId>&x;</MsgId></GrpHdr></BkToCstmrStmt></Document>"
    )
    with pytest.raises(errors.CamtError) as caught:
        parse_camt053(data)
    assert "root:" not in caught.value.message
