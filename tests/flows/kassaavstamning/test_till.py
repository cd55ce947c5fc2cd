"""Z-report CSV: Swedish number format, BOM, and every bad row reported with its line."""

from datetime import date

import pytest

from flows.kassaavstamning import errors
from flows.kassaavstamning.till import parse_z_reports

HEADER = "date;cash_point;till_id;z_number;cash;card;swish;refunds\r\n"


def _csv(*rows: str, header: str = HEADER, bom: bool = False) -> bytes:
    text = header + "".join(r + "\r\n" for r in rows)
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def test_reads_swedish_amounts_and_bom():
    """Decimal comma, space and no-break space thousands separators, a BOM: all read as öre."""
    data = _csv(
        "2026-11-03;bibliotek;BIBL-1;1042;1 234,50;3\u00a0410,05;560;45,5",
        "2026-11-03;simhall;BAD-1;2045;12.00;0,00;0;0",
        bom=True,
    )
    first, second = parse_z_reports(data)
    assert first.date == date(2026, 11, 3)
    assert (first.cash, first.card, first.swish, first.refunds) == (123450, 341005, 56000, 4550)
    assert first.cash_net == 123450 - 4550
    assert (second.cash, second.z_number) == (1200, 2045)


def test_column_order_is_free():
    """Columns are found by header name."""
    header = "till_id;date;z_number;cash_point;refunds;swish;card;cash\r\n"
    (report,) = parse_z_reports(_csv("BIBL-1;2026-11-03;7;bibliotek;0;1;2;3", header=header))
    assert (report.cash, report.card, report.swish) == (300, 200, 100)


def test_every_bad_row_is_reported_at_once():
    """Each problem is listed with its line number; nothing is returned."""
    data = _csv(
        "2026-11-03;bibliotek;BIBL-1;1042;100,00;0;0;0",
        "2026-11-31;bibliotek;BIBL-1;1043;100,00;0;0;0",
        "2026-11-04;bibliotek;BIBL-1;x;1,234;-5;0;0",
        "2026-11-03;bibliotek;BIBL-1;1044;1;0;0;0",
        "2026-11-05;bibliotek;BIBL-1;1042;1;0;0;0",
        "2026-11-06;okänd;BIBL-1;1045;1;0;0;0",
        "2026-11-07;bibliotek;BIBL-1;1046;1;0;0",
    )
    with pytest.raises(errors.TillFileError) as caught:
        parse_z_reports(data, cash_points={"bibliotek"})
    problems = dict()
    for line, message in caught.value.row_errors:
        problems.setdefault(line, []).append(message)
    assert caught.value.code == errors.TILL_ROWS
    assert sorted(problems) == [3, 4, 5, 6, 7, 8]
    assert any("YYYY-MM-DD" in m for m in problems[3])
    assert len(problems[4]) == 3  # z_number, cash (three decimals), card (negative)
    assert any("already has 2026-11-03 on line 2" in m for m in problems[5])
    assert any("Z number 1042 repeats line 2" in m for m in problems[6])
    assert any("unknown cash_point" in m for m in problems[7])
    assert any("7 fields" in m for m in problems[8])
    assert "line 3:" in caught.value.message


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", errors.TILL_EMPTY),
        (HEADER.encode(), errors.TILL_EMPTY),
        (b"date,cash_point,till_id,z_number,cash,card,swish,refunds\r\n", errors.TILL_HEADER),
        (b"datum;kassa\r\n", errors.TILL_HEADER),
        ("2026-11-03;bibliotek;\xe5\r\n".encode("latin-1"), errors.TILL_ENCODING),
    ],
    ids=["empty", "header-only", "commas", "wrong-header", "latin-1"],
)
def test_malformed_files_are_refused(data, code):
    """An empty file, a comma-separated or foreign header, and a non-UTF-8 file are refused."""
    with pytest.raises(errors.TillFileError) as caught:
        parse_z_reports(data)
    assert caught.value.code == code
