"""The loans export: the file a library system writes every night for the robot.

Format version 1 is CSV, UTF-8 (a BOM is accepted, as spreadsheet programs write one),
comma-separated, one loan per row, with the header ``EXPORT_COLUMNS`` (order free, extra
columns refused so that a changed export is noticed). Dates are ISO 8601 (``2026-12-03``),
booleans ``true``/``false``. Koha's and Quria's report tools export CSV of this shape.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pydantic import ValidationError

from .schemas import ExportedLoan

EXPORT_COLUMNS = (
    "patron_id",
    "item_id",
    "title",
    "item_type",
    "renewable",
    "checked_out",
    "due_date",
    "renewals",
    "renewal_limit",
    "holds_by_others",
    "patron_blocked",
    "patron_name",
    "patron_email",
)
REQUIRED_COLUMNS = EXPORT_COLUMNS[:11]

EXPORT_EMPTY = "export_empty"
EXPORT_COLUMNS_INVALID = "export_columns_invalid"
EXPORT_ROW_INVALID = "export_row_invalid"
EXPORT_DUPLICATE_ITEM = "export_duplicate_item"
EXPORT_UNREADABLE = "export_unreadable"


class LoansExportError(ValueError):
    """An export that cannot be read; ``code`` names why, the message says where."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


def loans_export_parse(text: str) -> list[ExportedLoan]:
    """The loans of an export; every problem is reported with its line number."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise LoansExportError("the export is empty", code=EXPORT_EMPTY)
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in EXPORT_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unknown:
            parts.append("unknown " + ", ".join(unknown))
        raise LoansExportError("export columns: " + "; ".join(parts), code=EXPORT_COLUMNS_INVALID)
    loans: list[ExportedLoan] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            raise LoansExportError(
                f"line {line}: more values than columns", code=EXPORT_ROW_INVALID
            )
        values = {k: (v or "").strip() for k, v in row.items() if v is not None}
        try:
            loan = ExportedLoan.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise LoansExportError(f"line {line}: {problems}", code=EXPORT_ROW_INVALID) from None
        if loan.item_id in seen:
            raise LoansExportError(
                f"line {line}: item {loan.item_id} is already on line {seen[loan.item_id]}",
                code=EXPORT_DUPLICATE_ITEM,
            )
        seen[loan.item_id] = line
        loans.append(loan)
    return loans


def loans_export_read(path: Path) -> list[ExportedLoan]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LoansExportError(f"no such file: {path}", code=EXPORT_UNREADABLE) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LoansExportError(f"cannot read {path}: {exc}", code=EXPORT_UNREADABLE) from None
    return loans_export_parse(text)
