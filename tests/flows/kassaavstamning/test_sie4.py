"""SIE 4 reader: CP437 text, quoted fields, object lists, vouchers, and refusal of bad files."""

from datetime import date

import pytest

from flows.kassaavstamning import errors
from flows.kassaavstamning.sie4 import parse_sie4

HEAD = (
    '#FLAGGA 0\r\n#PROGRAM "Ekonomisystem" 4.2\r\n#FORMAT PC8\r\n#GEN 20261201\r\n'
    '#SIETYP 4\r\n#FNAMN "Älvby kommun, Ekonomi- och redovisningsenheten"\r\n'
    '#KONTO 1910 "Kassa växelkassor"\r\n#KONTO 3590 "Övriga försäljningsintäkter"\r\n'
)
VOUCHER = (
    '#VER "K" 12 20261103 "Z-rapport BIBL-1 nr 1042 \\"kvällsöppet\\" på Åsgården"\r\n'
    "{\r\n"
    '   #TRANS 1910 {1 "4110" 6 "P 7"} 1234.50 20261103 "Dagskassa ÅÄÖ åäö"\r\n'
    '   #TRANS 3590 {1 "4110"} -1234.50\r\n'
    "}\r\n"
)


def _sie(body: str = VOUCHER, head: str = HEAD) -> bytes:
    return (head + body).encode("cp437")


def test_cp437_with_swedish_characters():
    """Bytes in code page 437 decode to åäöÅÄÖ in company, account and voucher texts."""
    data = _sie()
    assert "å".encode("cp437") == b"\x86" and b"\x86" in data  # really PC8, not Latin-1
    sie = parse_sie4(data)
    assert sie.company == "Älvby kommun, Ekonomi- och redovisningsenheten"
    assert sie.accounts["1910"] == "Kassa växelkassor"
    assert sie.accounts["3590"] == "Övriga försäljningsintäkter"
    (voucher,) = sie.vouchers
    assert voucher.text == 'Z-rapport BIBL-1 nr 1042 "kvällsöppet" på Åsgården'
    cash, revenue = voucher.postings
    assert cash.text == "Dagskassa ÅÄÖ åäö"
    assert revenue.text == voucher.text  # transtext falls back to the voucher text


def test_postings_amounts_objects_and_dates():
    """Amounts are öre (debit +, credit −); object lists pair dimensions and objects."""
    sie = parse_sie4(_sie())
    cash, revenue = sie.postings()
    assert (cash.account, cash.amount, revenue.amount) == ("1910", 123450, -123450)
    assert cash.objects == (("1", "4110"), ("6", "P 7"))
    assert cash.object_in("1") == "4110" and cash.object_in("2") is None
    assert cash.date == date(2026, 11, 3) and revenue.date == date(2026, 11, 3)
    assert cash.voucher == "K 12"
    assert [p.account for p in sie.postings(["1910"])] == ["1910"]


def test_rtrans_counts_once_and_btrans_not_at_all():
    """An added row (#RTRANS + its #TRANS copy) counts once; a removed row (#BTRANS) not at all."""
    body = (
        '#VER K 13 20261104 "Rättad"\r\n{\r\n'
        "   #TRANS 1910 {} 100.00\r\n"
        "   #BTRANS 1910 {} 50.00\r\n"
        "   #RTRANS 1910 {} 20.00\r\n"
        "   #TRANS 1910 {} 20.00\r\n"
        "   #TRANS 3590 {} -120.00\r\n"
        "}\r\n"
    )
    sie = parse_sie4(_sie(body))
    assert [p.amount for p in sie.postings(["1910"])] == [10000, 2000]


def test_unknown_labels_are_skipped():
    """Labels the reader does not use (#ADRESS, #IB, #UB, #KSUMMA, inside #VER too) are skipped."""
    body = (
        '#ADRESS "Karin Ek" "Storgatan 1" "123 45 Älvby" "010-123 45 67"\r\n#IB 0 1910 10.00\r\n'
        + VOUCHER
    )
    assert len(parse_sie4(_sie(body)).vouchers) == 1


def test_tabs_and_unquoted_fields():
    """Fields separated by tabs and unquoted series and texts are read like spaces and quotes."""
    body = (
        "#VER\tA\t7\t20261105\tKassa\r\n{\r\n\t#TRANS\t1910\t{}\t5\r\n\t#TRANS 3590 {} -5\r\n}\r\n"
    )
    (voucher,) = parse_sie4(_sie(body)).vouchers
    assert (voucher.series, voucher.number, voucher.text) == ("A", "7", "Kassa")
    assert voucher.postings[0].amount == 500


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", errors.SIE_SYNTAX),
        ("#SIETYP 4\r\n".encode("cp437"), errors.SIE_SYNTAX),
        (_sie(head=HEAD.replace("#SIETYP 4", "#SIETYP 3")), errors.SIE_NOT_TYPE_4),
        (_sie(head=HEAD.replace("#FORMAT PC8", "#FORMAT UTF8")), errors.SIE_FORMAT),
        (b"\xef\xbb\xbf" + _sie(), errors.SIE_ENCODING),
        (_sie(VOUCHER.replace("1234.50 2026", "12,34 2026")), errors.SIE_AMOUNT),
        (_sie(VOUCHER.replace("1234.50 2026", "1234.505 2026")), errors.SIE_AMOUNT),
        (_sie(VOUCHER.replace("-1234.50", "-1234.00")), errors.SIE_UNBALANCED_VOUCHER),
        (_sie(VOUCHER.replace('20261103 "Z', '20261131 "Z')), errors.SIE_DATE),
        (_sie(VOUCHER.replace('20261103 "Dag', '2026-11-03 "Dag')), errors.SIE_DATE),
        (_sie(VOUCHER.replace('"Dagskassa ÅÄÖ åäö"', '"Dagskassa')), errors.SIE_SYNTAX),
        (
            _sie(
                VOUCHER.replace('{1 "4110" 6 "P 7"}', '{1 "4110" 6'),
            ),
            errors.SIE_SYNTAX,
        ),
        (_sie(VOUCHER.replace('{1 "4110" 6 "P 7"}', '{1 "4110" 6}')), errors.SIE_SYNTAX),
        (_sie(VOUCHER.replace("{\r\n", "", 1)), errors.SIE_SYNTAX),
        (_sie(VOUCHER.rsplit("}", 1)[0]), errors.SIE_SYNTAX),
        (_sie("#TRANS 1910 {} 1.00\r\n"), errors.SIE_SYNTAX),
        (_sie("Kassa 1910 1.00\r\n"), errors.SIE_SYNTAX),
        (_sie("#VER K 1 20261103\r\n{\r\n   #TRANS 1910 1.00\r\n}\r\n"), errors.SIE_SYNTAX),
    ],
    ids=[
        "empty",
        "no-flagga",
        "type-3",
        "utf8-format",
        "bom",
        "decimal-comma",
        "three-decimals",
        "unbalanced",
        "bad-date",
        "iso-date",
        "open-quote",
        "open-braces",
        "odd-objects",
        "no-open-brace",
        "no-close-brace",
        "trans-outside",
        "no-label",
        "no-object-list",
    ],
)
def test_malformed_files_are_refused(data, code):
    """Each malformation gives its named error, with the line number where there is one."""
    with pytest.raises(errors.SieError) as caught:
        parse_sie4(data)
    assert caught.value.code == code
