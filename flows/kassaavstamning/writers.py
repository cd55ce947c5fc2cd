"""Writers for the three formats, for the synthetic demo month and the tests.

They write what real systems export (a bank's camt.053, a ledger's SIE 4 in CP437, a
till's semicolon CSV with decimal commas) so that the readers are tested on the same
bytes a municipality would feed them. Not used in production paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from lxml import etree

from .camt053 import NAMESPACE_PREFIX
from .sie4 import ENCODING
from .till import COLUMNS


@dataclass
class EntrySpec:
    amount: int  # öre, positive
    credit: bool
    booking_date: date
    text: str
    ref: str
    value_date: date | None = None
    charges: int = 0
    status: str = "BOOK"
    currency: str | None = None


@dataclass
class StatementSpec:
    statement_id: str
    from_date: date
    to_date: date
    opening: int
    entries: list[EntrySpec] = field(default_factory=list)
    closing: int | None = None  # computed when None

    @property
    def computed_closing(self) -> int:
        booked = sum(
            (e.amount if e.credit else -e.amount) for e in self.entries if e.status == "BOOK"
        )
        return self.opening + booked


def _kr(ore: int) -> str:
    return f"{abs(ore) // 100}.{abs(ore) % 100:02d}"


def camt053_xml(
    statements: Iterable[StatementSpec],
    *,
    version: str = "02",
    iban: str = "SE4550000000058398257466",
    currency: str = "SEK",
    message_id: str = "RF-CAMT-DEMO",
    created: datetime = datetime(2026, 12, 4, 18, 0),
) -> bytes:
    """A camt.053.001.<version> Document (versions 02 and 08) with the given statements."""
    ns = NAMESPACE_PREFIX + version
    E = lambda tag, *children, **attrs: _el(ns, tag, *children, **attrs)  # noqa: E731

    def amount(ore: int, ccy: str | None = None):
        return E("Amt", _kr(ore), Ccy=ccy or currency)

    def dt(d: date):
        return E("Dt", d.isoformat())

    def status(code: str):
        return E("Sts", E("Cd", code)) if version != "02" else E("Sts", code)

    def charges(ore: int, ccy: str | None):
        if version == "02":
            return E("Chrgs", amount(ore, ccy))
        return E(
            "Chrgs",
            E("TtlChrgsAndTaxAmt", _kr(ore), Ccy=ccy or currency),
            E("Rcrd", amount(ore, ccy), E("CdtDbtInd", "DBIT")),
        )

    stmts = []
    for seq, spec in enumerate(statements, start=1):
        closing = spec.computed_closing if spec.closing is None else spec.closing
        entries = []
        for n, e in enumerate(spec.entries, start=1):
            children = [
                E("NtryRef", f"{spec.statement_id}-{n}"),
                amount(e.amount, e.currency),
                E("CdtDbtInd", "CRDT" if e.credit else "DBIT"),
                status(e.status),
                E("BookgDt", dt(e.booking_date)),
                E("ValDt", dt(e.value_date or e.booking_date)),
                E("AcctSvcrRef", e.ref),
                E(
                    "BkTxCd",
                    E(
                        "Domn",
                        E("Cd", "PMNT"),
                        E("Fmly", E("Cd", "RCDT" if e.credit else "ICDT"), E("SubFmlyCd", "OTHR")),
                    ),
                ),
            ]
            if e.charges:
                children.append(charges(e.charges, e.currency))
            children.append(
                E(
                    "NtryDtls",
                    E(
                        "TxDtls",
                        E("Refs", E("AcctSvcrRef", e.ref), E("EndToEndId", "NOTPROVIDED")),
                        E("RmtInf", E("Ustrd", e.text)),
                    ),
                )
            )
            entries.append(E("Ntry", *children))

        def balance(code: str, ore: int, day: date):
            return E(
                "Bal",
                E("Tp", E("CdOrPrtry", E("Cd", code))),
                amount(abs(ore)),
                E("CdtDbtInd", "CRDT" if ore >= 0 else "DBIT"),
                E("Dt", dt(day)),
            )

        stmts.append(
            E(
                "Stmt",
                E("Id", spec.statement_id),
                E("ElctrncSeqNb", str(seq)),
                E("CreDtTm", datetime.combine(spec.to_date, datetime.min.time()).isoformat()),
                E(
                    "FrToDt",
                    E("FrDtTm", f"{spec.from_date.isoformat()}T00:00:00"),
                    E("ToDtTm", f"{spec.to_date.isoformat()}T23:59:59"),
                ),
                E("Acct", E("Id", E("IBAN", iban)), E("Ccy", currency)),
                balance("OPBD", spec.opening, spec.from_date),
                balance("CLBD", closing, spec.to_date),
                *entries,
            )
        )
    document = E(
        "Document",
        E(
            "BkToCstmrStmt",
            E("GrpHdr", E("MsgId", message_id), E("CreDtTm", created.isoformat())),
            *stmts,
        ),
    )
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _el(ns: str, tag: str, *children, **attrs):
    element = etree.Element(f"{{{ns}}}{tag}", nsmap={None: ns}, **attrs)
    for child in children:
        if isinstance(child, str):
            element.text = child
        else:
            element.append(child)
    return element


# -- SIE 4 -------------------------------------------------------------------------------


def sie_quote(value: str) -> str:
    """A field as SIE writes it: quoted, with ``"`` and ``\\`` escaped by a backslash."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class TransSpec:
    account: str
    amount: int  # öre, debit positive
    objects: tuple[tuple[str, str], ...] = ()
    date: date | None = None
    text: str = ""


@dataclass
class VoucherSpec:
    series: str
    number: int
    date: date
    text: str
    rows: list[TransSpec]


def _sie_amount(ore: int) -> str:
    return ("-" if ore < 0 else "") + _kr(ore)


def sie4_bytes(
    *,
    company: str,
    accounts: dict[str, str],
    vouchers: Iterable[VoucherSpec],
    dimensions: dict[str, str] | None = None,
    objects: Iterable[tuple[str, str, str]] = (),
    generated: date = date(2026, 12, 4),
    fiscal_year: tuple[date, date] = (date(2026, 1, 1), date(2026, 12, 31)),
) -> bytes:
    """A SIE type 4 file in PC8 (CP437), with CR LF line ends as the standard writes."""
    lines = [
        "#FLAGGA 0",
        '#PROGRAM "Robotfabrik demoekonomi" 1.0',
        "#FORMAT PC8",
        f"#GEN {generated:%Y%m%d}",
        "#SIETYP 4",
        f"#FNAMN {sie_quote(company)}",
        "#ORGNR 212000-0001",
        f"#RAR 0 {fiscal_year[0]:%Y%m%d} {fiscal_year[1]:%Y%m%d}",
        "#KPTYP BAS2014",
        "#VALUTA SEK",
    ]
    for number, name in (dimensions or {}).items():
        lines.append(f"#DIM {number} {sie_quote(name)}")
    for dim, obj, name in objects:
        lines.append(f"#OBJEKT {dim} {sie_quote(obj)} {sie_quote(name)}")
    for account, name in accounts.items():
        lines.append(f"#KONTO {account} {sie_quote(name)}")
    for v in vouchers:
        lines.append(f"#VER {sie_quote(v.series)} {v.number} {v.date:%Y%m%d} {sie_quote(v.text)}")
        lines.append("{")
        for row in v.rows:
            objs = " ".join(f"{d} {sie_quote(o)}" for d, o in row.objects)
            tail = ""
            if row.date or row.text:
                tail = f" {(row.date or v.date):%Y%m%d}" + (
                    f" {sie_quote(row.text)}" if row.text else ""
                )
            lines.append(f"   #TRANS {row.account} {{{objs}}} {_sie_amount(row.amount)}{tail}")
        lines.append("}")
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING)


# -- Z-report CSV -----------------------------------------------------------------------


def swedish_amount(ore: int) -> str:
    """``1 234,50``: thousands separated by a space, decimal comma (as Swedish exports)."""
    kronor, rest = divmod(ore, 100)
    return f"{kronor:,}".replace(",", " ") + f",{rest:02d}"


def z_report_csv(rows: Iterable[dict], *, bom: bool = True) -> bytes:
    """The Z-report file: header, then one row per till and day (amounts in öre in ``rows``)."""
    out = [";".join(COLUMNS)]
    for row in rows:
        cells = []
        for column in COLUMNS:
            value = row[column]
            if column in ("cash", "card", "swish", "refunds"):
                value = swedish_amount(value)
            cells.append(str(value))
        out.append(";".join(cells))
    text = "\r\n".join(out) + "\r\n"
    return ("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8")
