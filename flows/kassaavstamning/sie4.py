"""SIE 4 reader (SIE-gruppen, "SIE filformat, utgåva 4B"): vouchers and their postings.

The file is a sequence of records, one per line, each a label (``#VER``, ``#TRANS``,
``#KONTO`` …) followed by fields separated by spaces or tabs. A field holding
spaces is quoted (``"Kassa bibliotek"``); a quote inside it is written ``\\"``
(and a backslash ``\\\\``). An object list is a field in braces, ``{1 "4110" 6 "P7"}``:
pairs of dimension number and object number. A voucher is ``#VER serie vernr verdatum
[vertext [regdatum [sign]]]`` followed by ``{``, its ``#TRANS kontonr {objektlista}
belopp [transdat [transtext [kvantitet [sign]]]]`` records and ``}``, each on its own
line. Amounts have a decimal point; dates are ``YYYYMMDD``. The character set is
IBM PC 8-bit extended ASCII (``#FORMAT PC8``), that is code page 437, which the
standard requires whatever ``#FORMAT`` says: the reader decodes CP437 and refuses
any other declared format. ``#RTRANS`` (a row added afterwards) is followed by a
``#TRANS`` copy for older readers, which is skipped here so the row counts once;
``#BTRANS`` (a removed row) does not count. Labels the reader does not use are
skipped, as the standard asks of readers; a voucher whose postings do not sum to
zero is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from . import errors
from .money import format_kronor, ore_from_decimal_text

ENCODING = "cp437"


@dataclass(frozen=True)
class Posting:
    """One ``#TRANS`` row. ``amount`` is öre, debit positive and credit negative."""

    series: str
    number: str
    account: str
    objects: tuple[tuple[str, str], ...]
    amount: int
    date: date
    text: str
    voucher_date: date
    voucher_text: str
    line: int

    @property
    def voucher(self) -> str:
        return f"{self.series} {self.number}"

    def object_in(self, dimension: str) -> str | None:
        return next((obj for dim, obj in self.objects if dim == dimension), None)


@dataclass(frozen=True)
class Voucher:
    series: str
    number: str
    date: date
    text: str
    postings: tuple[Posting, ...]
    line: int


@dataclass(frozen=True)
class SieFile:
    sie_type: str
    program: str
    company: str
    currency: str
    accounts: dict[str, str] = field(default_factory=dict)
    vouchers: tuple[Voucher, ...] = ()

    def postings(self, accounts: Iterable[str] | None = None) -> list[Posting]:
        """Postings on ``accounts`` (all when None), in file order."""
        wanted = set(accounts) if accounts is not None else None
        return [
            p for v in self.vouchers for p in v.postings if wanted is None or p.account in wanted
        ]


@dataclass(frozen=True)
class _Record:
    label: str
    fields: list  # str or list[str] (an object list)
    line: int


def _syntax(line: int, message: str) -> errors.SieError:
    return errors.SieError(errors.SIE_SYNTAX, f"line {line}: {message}")


def _tokens(text: str, line: int) -> list:
    """Fields of one record line: strings, and lists of strings for ``{…}``."""
    out: list = []
    stack: list[list] = [out]
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            i += 1
        elif ch == '"':
            i += 1
            value = []
            while True:
                if i >= n:
                    raise _syntax(line, "unterminated quoted field")
                ch = text[i]
                if ch == "\\" and i + 1 < n:
                    value.append(text[i + 1])
                    i += 2
                elif ch == '"':
                    i += 1
                    break
                else:
                    value.append(ch)
                    i += 1
            stack[-1].append("".join(value))
        elif ch == "{":
            if len(stack) > 1:
                raise _syntax(line, "nested object list")
            inner: list = []
            stack[-1].append(inner)
            stack.append(inner)
            i += 1
        elif ch == "}":
            if len(stack) == 1:
                raise _syntax(line, "'}' without '{'")
            stack.pop()
            i += 1
        else:
            j = i
            while j < n and text[j] not in ' \t"{}':
                j += 1
            stack[-1].append(text[i:j])
            i = j
    if len(stack) > 1:
        raise _syntax(line, "object list not closed with '}'")
    return out


def _records(text: str) -> list[_Record]:
    records = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped in ("{", "}"):
            records.append(_Record(stripped, [], number))
            continue
        if not stripped.startswith("#"):
            raise _syntax(number, f"a record must start with '#', got {stripped[:30]!r}")
        label, _, rest = stripped.partition(" ")
        if "\t" in label:
            label, _, tail = label.partition("\t")
            rest = tail + " " + rest
        records.append(_Record(label.upper(), _tokens(rest, number), number))
    return records


def _date(value, line: int, what: str) -> date:
    if not isinstance(value, str) or len(value) != 8 or not value.isdigit():
        raise errors.SieError(errors.SIE_DATE, f"line {line}: {what} {value!r} is not YYYYMMDD")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise errors.SieError(
            errors.SIE_DATE, f"line {line}: {what} {value!r} is not a calendar date"
        ) from None


def _text_field(fields: list, index: int) -> str:
    value = fields[index] if len(fields) > index else ""
    return value if isinstance(value, str) else ""


def _objects(value, line: int) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        raise _syntax(line, "#TRANS needs an object list ('{}' when empty) after the account")
    if len(value) % 2:
        raise _syntax(line, "object list must hold pairs of dimension and object")
    return tuple((value[k], value[k + 1]) for k in range(0, len(value), 2))


def _posting(record: _Record, head: _Record, vdate: date, vtext: str) -> Posting:
    f = record.fields
    if len(f) < 3 or not isinstance(f[0], str):
        raise _syntax(record.line, f"{record.label} needs account, object list and amount")
    objects = _objects(f[1], record.line)
    if not isinstance(f[2], str):
        raise _syntax(record.line, "amount must follow the object list")
    try:
        amount = ore_from_decimal_text(f[2])
    except ValueError as exc:
        raise errors.SieError(errors.SIE_AMOUNT, f"line {record.line}: {exc}") from None
    tdate = _date(f[3], record.line, "transdat") if _text_field(f, 3) else vdate
    return Posting(
        series=head.fields[0],
        number=head.fields[1],
        account=f[0],
        objects=objects,
        amount=amount,
        date=tdate,
        text=_text_field(f, 4) or vtext,
        voucher_date=vdate,
        voucher_text=vtext,
        line=record.line,
    )


def parse_sie4(data: bytes) -> SieFile:
    """The accounts and vouchers of a SIE 4 file (bytes in CP437), checked as documented."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise errors.SieError(
            errors.SIE_ENCODING,
            "the file starts with a UTF-8 byte-order mark; SIE 4 files are PC8 (code page 437)",
        )
    text = data.decode(ENCODING)
    records = _records(text)
    if not records:
        raise errors.SieError(errors.SIE_SYNTAX, "the file is empty")
    if records[0].label != "#FLAGGA":
        raise _syntax(records[0].line, "a SIE file must begin with #FLAGGA")
    info = {"#SIETYP": "", "#PROGRAM": "", "#FNAMN": "", "#VALUTA": "SEK", "#FORMAT": "PC8"}
    accounts: dict[str, str] = {}
    vouchers: list[Voucher] = []
    i = 0
    while i < len(records):
        record = records[i]
        if record.label in ("{", "}"):
            raise _syntax(record.line, f"'{record.label}' outside a #VER")
        if record.label in info and record.fields:
            info[record.label] = " ".join(x for x in record.fields if isinstance(x, str))
        elif record.label == "#KONTO":
            if len(record.fields) < 1 or not isinstance(record.fields[0], str):
                raise _syntax(record.line, "#KONTO needs an account number")
            accounts[record.fields[0]] = _text_field(record.fields, 1)
        elif record.label == "#VER":
            voucher, i = _voucher(records, i)
            vouchers.append(voucher)
            continue
        elif record.label in ("#TRANS", "#RTRANS", "#BTRANS"):
            raise _syntax(record.line, f"{record.label} outside a #VER")
        i += 1
    if info["#SIETYP"] != "4":
        raise errors.SieError(
            errors.SIE_NOT_TYPE_4,
            f"#SIETYP is {info['#SIETYP'] or 'missing'}; vouchers are read from type 4 files",
        )
    if info["#FORMAT"].upper() != "PC8":
        raise errors.SieError(
            errors.SIE_FORMAT, f"#FORMAT {info['#FORMAT']!r}: the standard allows only PC8"
        )
    return SieFile(
        sie_type=info["#SIETYP"],
        program=info["#PROGRAM"],
        company=info["#FNAMN"],
        currency=info["#VALUTA"],
        accounts=accounts,
        vouchers=tuple(vouchers),
    )


def _voucher(records: list[_Record], i: int) -> tuple[Voucher, int]:
    head = records[i]
    f = head.fields
    if len(f) < 3 or not all(isinstance(x, str) for x in f[:3]):
        raise _syntax(head.line, "#VER needs series, number and date")
    vdate = _date(f[2], head.line, "verdatum")
    vtext = _text_field(f, 3)
    if i + 1 >= len(records) or records[i + 1].label != "{":
        raise _syntax(head.line, "#VER must be followed by a line with '{'")
    i += 2
    postings: list[Posting] = []
    skip_copy_of: _Record | None = None
    while True:
        if i >= len(records):
            raise _syntax(head.line, "#VER is not closed with '}'")
        record = records[i]
        i += 1
        if record.label == "}":
            break
        if record.label == "#RTRANS":
            postings.append(_posting(record, head, vdate, vtext))
            skip_copy_of = record
        elif record.label == "#TRANS":
            if skip_copy_of is not None and record.fields == skip_copy_of.fields:
                skip_copy_of = None  # the compatibility copy of the #RTRANS above
                continue
            postings.append(_posting(record, head, vdate, vtext))
        elif record.label == "#BTRANS":
            _posting(record, head, vdate, vtext)  # checked, not counted: a removed row
        elif record.label in ("{", "#VER"):
            raise _syntax(record.line, f"{record.label} inside a #VER")
        # other labels inside a voucher are skipped, as the standard asks of readers
        if record.label != "#RTRANS":
            skip_copy_of = None
    total = sum(p.amount for p in postings)
    if total != 0:
        raise errors.SieError(
            errors.SIE_UNBALANCED_VOUCHER,
            f"line {head.line}: voucher {f[0]} {f[1]} does not balance "
            f"(postings sum to {format_kronor(total)})",
        )
    voucher = Voucher(
        series=f[0], number=f[1], date=vdate, text=vtext, postings=tuple(postings), line=head.line
    )
    return voucher, i
