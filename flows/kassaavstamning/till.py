"""The tills' daily Z-reports, as a semicolon-separated CSV like Swedish cash registers export.

Format (one row per till and day, a header row first; the column order is free)::

    date;cash_point;till_id;z_number;cash;card;swish;refunds
    2026-11-03;bibliotek;BIBL-1;1042;1 234,50;3 410,00;560,00;45,00

- ``date``: the business day of the Z-report, ``YYYY-MM-DD``.
- ``cash_point``: the cash point's code as configured (``bibliotek``, ``simhall``, ``reception``).
- ``till_id``: the till (one cash point may have several); ``z_number``: the till's running
  Z number, a positive integer that never repeats for a till.
- ``cash``, ``card``, ``swish``: the day's takings per tender, in kronor with a decimal comma
  (a point is accepted too), spaces or no-break spaces as thousands separators allowed.
  ``card`` and ``swish`` are as the terminal reports them (their refunds already netted).
- ``refunds``: cash paid back over the counter that day. The cash to be deposited is
  ``cash − refunds``.

The file is UTF-8; a byte-order mark (as spreadsheet programs write) is tolerated.
Every row is checked and every bad row is reported with its line number at once.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from . import errors
from .money import ore_from_decimal_text

COLUMNS = ("date", "cash_point", "till_id", "z_number", "cash", "card", "swish", "refunds")
AMOUNT_COLUMNS = ("cash", "card", "swish", "refunds")
_SWEDISH_AMOUNT = re.compile(r"-?[0-9]+([,.][0-9]{1,2})?")


@dataclass(frozen=True)
class ZReport:
    """One till's day. Amounts are öre."""

    date: date
    cash_point: str
    till_id: str
    z_number: int
    cash: int
    card: int
    swish: int
    refunds: int
    line: int

    @property
    def cash_net(self) -> int:
        return self.cash - self.refunds


def _amount(text: str) -> int:
    compact = text.replace("\u00a0", "").replace(" ", "").strip()
    if not _SWEDISH_AMOUNT.fullmatch(compact):
        raise ValueError(f"{text!r} is not an amount in kronor (e.g. 1 234,50)")
    value = ore_from_decimal_text(compact.replace(",", "."))
    if value < 0:
        raise ValueError(f"{text!r} is negative")
    return value


def parse_z_reports(data: bytes, *, cash_points: set[str] | None = None) -> list[ZReport]:
    """The Z-reports of a file; ``cash_points`` (when given) are the codes allowed."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.TillFileError(
            errors.TILL_ENCODING, f"not UTF-8 (byte {exc.start}); export the file as UTF-8"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    try:
        header = next(reader)
    except StopIteration:
        raise errors.TillFileError(errors.TILL_EMPTY, "the file is empty") from None
    header = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise errors.TillFileError(
            errors.TILL_HEADER,
            "header lacks column(s) "
            + ", ".join(missing)
            + " (expected "
            + ";".join(COLUMNS)
            + ", separated by semicolons)",
        )
    index = {c: header.index(c) for c in COLUMNS}
    reports: list[ZReport] = []
    problems: list[tuple[int, str]] = []
    seen_day: dict[tuple[str, date], int] = {}
    seen_z: dict[tuple[str, int], int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append((line, f"{len(row)} fields, the header has {len(header)}"))
            continue
        cell = {c: row[i].strip() for c, i in index.items()}
        row_problems: list[str] = []
        try:
            day = date.fromisoformat(cell["date"])
        except ValueError:
            row_problems.append(f"date {cell['date']!r} is not YYYY-MM-DD")
            day = None
        if not cell["cash_point"]:
            row_problems.append("cash_point is empty")
        elif cash_points is not None and cell["cash_point"] not in cash_points:
            row_problems.append(f"unknown cash_point {cell['cash_point']!r}")
        if not cell["till_id"]:
            row_problems.append("till_id is empty")
        z_number = int(cell["z_number"]) if cell["z_number"].isdigit() else None
        if not z_number:
            row_problems.append(f"z_number {cell['z_number']!r} is not a positive integer")
        amounts: dict[str, int] = {}
        for column in AMOUNT_COLUMNS:
            try:
                amounts[column] = _amount(cell[column])
            except ValueError as exc:
                row_problems.append(f"{column}: {exc}")
        if day and cell["till_id"]:
            first = seen_day.setdefault((cell["till_id"], day), line)
            if first != line:
                row_problems.append(f"till {cell['till_id']} already has {day} on line {first}")
        if z_number and cell["till_id"]:
            first = seen_z.setdefault((cell["till_id"], z_number), line)
            if first != line:
                row_problems.append(f"Z number {z_number} repeats line {first}")
        if row_problems:
            problems.extend((line, p) for p in row_problems)
            continue
        reports.append(
            ZReport(
                date=day,
                cash_point=cell["cash_point"],
                till_id=cell["till_id"],
                z_number=z_number,
                line=line,
                **amounts,
            )
        )
    if problems:
        raise errors.TillFileError(
            errors.TILL_ROWS,
            "; ".join(f"line {line}: {message}" for line, message in problems),
            problems,
        )
    if not reports:
        raise errors.TillFileError(errors.TILL_EMPTY, "the file has a header but no Z-reports")
    return reports
