"""The loans export (CSV, format version 1) and the shipped synthetic library data."""

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from flows.bibliotek_aterlan.export import (
    EXPORT_COLUMNS,
    EXPORT_COLUMNS_INVALID,
    EXPORT_DUPLICATE_ITEM,
    EXPORT_EMPTY,
    EXPORT_ROW_INVALID,
    EXPORT_UNREADABLE,
    LoansExportError,
    loans_export_parse,
    loans_export_read,
)
from flows.bibliotek_aterlan.schemas import LibraryData
from flows.bibliotek_aterlan.simulator import DATA_FILE, SimulatedLibrary, load_library_data

from .conftest import TODAY

HEADER = ",".join(EXPORT_COLUMNS)
ROW = (
    "2600100001,3900000000011,Kallocain,bok,true,2026-11-04,2026-12-02,0,3,0,false,A,a@example.org"
)


def test_simulator_export_round_trip():
    """The library's export parses back into every loan with its dates and counts."""
    library = SimulatedLibrary.from_data(load_library_data(), today=TODAY)
    loans = loans_export_parse(library.export_csv())
    assert len(loans) == len(library.loans)
    reserved = next(x for x in loans if x.item_id == "3900000000028")
    assert reserved.holds_by_others == 1 and reserved.due_date == TODAY + dt.timedelta(days=2)
    own_hold = next(x for x in loans if x.item_id == "3900000000103")
    assert own_hold.holds_by_others == 0  # the borrower's own hold does not count


def test_bom_and_column_order_are_accepted():
    cols = list(EXPORT_COLUMNS)
    values = ROW.split(",")
    text = "\ufeff" + ",".join(reversed(cols)) + "\n" + ",".join(reversed(values)) + "\n"
    assert loans_export_parse(text)[0].due_date == dt.date(2026, 12, 2)


@pytest.mark.parametrize(
    "text, code, where",
    [
        ("", EXPORT_EMPTY, "empty"),
        ("patron_id,item_id\n1,2\n", EXPORT_COLUMNS_INVALID, "missing title"),
        (HEADER + ",extra\n", EXPORT_COLUMNS_INVALID, "unknown extra"),
        (
            HEADER + "\n" + ROW.replace("2026-12-02", "2026-13-02") + "\n",
            EXPORT_ROW_INVALID,
            "line 2: due_date",
        ),
        (
            HEADER + "\n" + ROW.replace(",0,3,", ",-1,3,") + "\n",
            EXPORT_ROW_INVALID,
            "line 2: renewals",
        ),
        (HEADER + "\n" + ROW + ",surplus\n", EXPORT_ROW_INVALID, "line 2: more values"),
        (HEADER + "\n" + ROW + "\n" + ROW + "\n", EXPORT_DUPLICATE_ITEM, "line 3"),
    ],
)
def test_bad_exports_name_the_problem_and_line(text, code, where):
    with pytest.raises(LoansExportError, match=where) as info:
        loans_export_parse(text)
    assert info.value.code == code


def test_missing_file(tmp_path):
    with pytest.raises(LoansExportError) as info:
        loans_export_read(tmp_path / "none.csv")
    assert info.value.code == EXPORT_UNREADABLE


def test_shipped_library_data_is_valid_and_synthetic():
    """The shipped data validates; every e-mail is at example.org (no real people)."""
    data = load_library_data()
    assert all(p.email.endswith("@example.org") for p in data.patrons)
    assert any(p.blocked for p in data.patrons)
    assert any(not t.renewable for t in data.item_types.values())


def test_library_data_with_dangling_reference_is_refused():
    raw = json.loads(DATA_FILE.read_text("utf-8"))
    raw["loans"][0]["item"] = "0000000000"
    with pytest.raises(ValidationError, match="unknown item"):
        LibraryData.model_validate(raw)
