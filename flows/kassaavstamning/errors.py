"""Named errors for the three input files: tests and the command assert on the codes.

Every parser raises an ``InputFileError`` subclass with one of the constants below
and a message a controller can act on (which file, which line or element, what was
expected), so a bad export is reported as such and never as a traceback.
"""

from __future__ import annotations

# camt.053 (bank statement)
CAMT_NOT_XML = "CAMT_NOT_XML"
CAMT_WRONG_NAMESPACE = "CAMT_WRONG_NAMESPACE"
CAMT_WRONG_ROOT = "CAMT_WRONG_ROOT"
CAMT_SHAPE = "CAMT_SHAPE"
CAMT_CURRENCY = "CAMT_CURRENCY"
CAMT_AMOUNT = "CAMT_AMOUNT"
CAMT_DATE = "CAMT_DATE"
CAMT_UNBALANCED = "CAMT_UNBALANCED"

# SIE 4 (ledger)
SIE_ENCODING = "SIE_ENCODING"
SIE_SYNTAX = "SIE_SYNTAX"
SIE_NOT_TYPE_4 = "SIE_NOT_TYPE_4"
SIE_FORMAT = "SIE_FORMAT"
SIE_AMOUNT = "SIE_AMOUNT"
SIE_DATE = "SIE_DATE"
SIE_UNBALANCED_VOUCHER = "SIE_UNBALANCED_VOUCHER"

# Till Z-report CSV
TILL_ENCODING = "TILL_ENCODING"
TILL_HEADER = "TILL_HEADER"
TILL_ROWS = "TILL_ROWS"
TILL_EMPTY = "TILL_EMPTY"


class InputFileError(ValueError):
    """An input file that cannot be read; ``code`` is one of the constants of this module."""

    file_kind = "file"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.file_kind}: {self.message} [{self.code}]"


class CamtError(InputFileError):
    file_kind = "camt.053"


class SieError(InputFileError):
    file_kind = "SIE 4"


class TillFileError(InputFileError):
    """A Z-report file with bad rows; ``row_errors`` lists every (line number, message)."""

    file_kind = "Z-report CSV"

    def __init__(self, code: str, message: str, row_errors: list[tuple[int, str]] | None = None):
        super().__init__(code, message)
        self.row_errors = row_errors or []
