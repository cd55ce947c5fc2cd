"""A SIP2 server (ACS) simulating a library system, for the tests and the demo.

It speaks the same wire format as ``sip2.codec`` over real TCP on a free local port, keeps
loans, holds and patrons from ``data/bibliotek_aterlan/library.json`` in memory and renews
by the rules a library system applies (in this order, as Koha checks them: patron blocked,
item type not renewable, reserved by another patron, renewal limit reached). A refusal is
a Renew Response 30 with ok=0 and a screen message (AF); a renewal moves the due date on
by the item type's loan period counted from the current due date.

Protocol behaviour beyond the happy path, because the client must cope with it:
- a request with a bad checksum is answered with Request SC Resend 96;
- 97 (Request ACS Resend) gets the last response of the connection again;
- messages other than Login 93 and SC Status 99 before a successful login close the
  connection (what an ACS configured for terminal logins does);
- a Renew arriving again with the same patron, item, transaction date and sequence number
  (the client's retry after a lost answer) is answered with the first answer and not
  renewed twice. Real ACSs differ here; see the report on idempotency.

``Faults`` lets a test make the next matching message drop the connection before it is
processed or half-way through the answer, arrive with a bad checksum, or be answered late.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .schemas import LibraryData
from .sip2 import codec
from .sip2.codec import Message
from .sip2.errors import SIP2ChecksumError, SIP2FrameError

logger = logging.getLogger(__name__)

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "bibliotek_aterlan" / "library.json"

# Screen messages (AF) of refusals. "text" is what a Swedish library system shows on the
# self-check screen; "codes" are the error codes Koha's SIP server puts in AF.
REFUSAL_MESSAGES = {
    "text": {
        "patron_blocked": "Lånekortet är spärrat. Kontakta biblioteket.",
        "not_renewable": "Medietypen kan inte lånas om.",
        "reserved": "Reserverad av annan låntagare.",
        "limit_reached": "Max antal omlån uppnått.",
        "not_on_loan": "Exemplaret är inte utlånat till låntagaren.",
        "unknown_patron": "Okänd låntagare.",
        "unknown_item": "Okänt exemplar.",
    },
    "codes": {
        "patron_blocked": "restriction",
        "not_renewable": "item_denied_renewal",
        "reserved": "on_reserve",
        "limit_reached": "too_many",
        "not_on_loan": "no_checkout",
        "unknown_patron": "no_patron",
        "unknown_item": "no_item",
    },
}

# Fault kinds.
DROP_BEFORE_PROCESSING = "drop_before_processing"
DROP_MID_RESPONSE = "drop_mid_response"
BAD_CHECKSUM = "bad_checksum"
DELAY = "delay"
WRONG_SEQUENCE = "wrong_sequence"
ASK_RESEND = "ask_resend"  # answer 96 as if the request had arrived garbled
FAULT_KINDS = (
    DROP_BEFORE_PROCESSING,
    DROP_MID_RESPONSE,
    BAD_CHECKSUM,
    DELAY,
    WRONG_SEQUENCE,
    ASK_RESEND,
)


def load_library_data(path: Path | None = None) -> LibraryData:
    return LibraryData.model_validate(json.loads((path or DATA_FILE).read_text("utf-8")))


@dataclass
class SimLoan:
    patron_id: str
    item_id: str
    checked_out: dt.date
    due_date: dt.date
    renewals: int


@dataclass
class SimulatedLibrary:
    """The library system's state, with absolute dates from ``today``."""

    data: LibraryData
    today: dt.date
    loans: dict[str, SimLoan] = field(default_factory=dict)  # by item id

    @classmethod
    def from_data(cls, data: LibraryData, *, today: dt.date) -> SimulatedLibrary:
        library = cls(data=data, today=today)
        for loan in data.loans:
            library.loans[loan.item] = SimLoan(
                patron_id=loan.patron,
                item_id=loan.item,
                checked_out=today - dt.timedelta(days=loan.checked_out_days_ago),
                due_date=today + dt.timedelta(days=loan.due_in_days),
                renewals=loan.renewals,
            )
        return library

    def patron(self, patron_id: str):
        return next((p for p in self.data.patrons if p.id == patron_id), None)

    def item(self, item_id: str):
        return next((i for i in self.data.items if i.id == item_id), None)

    def item_type(self, item_id: str):
        item = self.item(item_id)
        return self.data.item_types[item.type] if item else None

    def holds_by_others(self, item_id: str) -> int:
        loan = self.loans.get(item_id)
        borrower = loan.patron_id if loan else None
        return sum(1 for h in self.data.holds if h.item == item_id and h.patron != borrower)

    def holds_of(self, patron_id: str) -> list[str]:
        return [h.item for h in self.data.holds if h.patron == patron_id]

    def loans_of(self, patron_id: str) -> list[SimLoan]:
        return [loan for loan in self.loans.values() if loan.patron_id == patron_id]

    def renewal_refusal(self, patron_id: str, item_id: str) -> str | None:
        """Why the loan may not be renewed, or None; the library system's own rule order."""
        patron = self.patron(patron_id)
        if patron is None:
            return "unknown_patron"
        if self.item(item_id) is None:
            return "unknown_item"
        loan = self.loans.get(item_id)
        if loan is None or loan.patron_id != patron_id:
            return "not_on_loan"
        if patron.blocked:
            return "patron_blocked"
        if not self.item_type(item_id).renewable:
            return "not_renewable"
        if self.holds_by_others(item_id):
            return "reserved"
        if loan.renewals >= self.data.renewal_limit:
            return "limit_reached"
        return None

    def renew(self, patron_id: str, item_id: str) -> tuple[str | None, SimLoan | None]:
        refusal = self.renewal_refusal(patron_id, item_id)
        loan = self.loans.get(item_id)
        if refusal is None:
            loan.due_date += dt.timedelta(days=self.item_type(item_id).loan_days)
            loan.renewals += 1
        return refusal, loan

    def export_csv(self) -> str:
        """The loans export as the library system would write it (format version 1)."""
        from .export import EXPORT_COLUMNS

        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for loan in sorted(self.loans.values(), key=lambda x: (x.due_date, x.item_id)):
            patron = self.patron(loan.patron_id)
            item = self.item(loan.item_id)
            writer.writerow(
                {
                    "patron_id": loan.patron_id,
                    "item_id": loan.item_id,
                    "title": item.title,
                    "item_type": item.type,
                    "renewable": str(self.item_type(loan.item_id).renewable).lower(),
                    "checked_out": loan.checked_out.isoformat(),
                    "due_date": loan.due_date.isoformat(),
                    "renewals": loan.renewals,
                    "renewal_limit": self.data.renewal_limit,
                    "holds_by_others": self.holds_by_others(loan.item_id),
                    "patron_blocked": str(patron.blocked).lower(),
                    "patron_name": patron.name,
                    "patron_email": patron.email,
                }
            )
        return out.getvalue()


@dataclass
class Fault:
    kind: str
    command: str | None  # None: any command
    times: int = 1
    seconds: float = 0.0


class Faults:
    """Faults to inject into the next matching messages (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(self, kind: str, *, command: str | None = None, times: int = 1, seconds: float = 0.0):
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        with self._lock:
            self._pending.append(Fault(kind, command, times, seconds))

    def take(self, command: str) -> Fault | None:
        with self._lock:
            for fault in self._pending:
                if fault.command in (None, command):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._pending.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


def _garble(data: bytes) -> bytes:
    """``data`` with one byte changed, as line noise would change it."""
    garbled = bytearray(data)
    garbled[3] ^= 0x01
    return bytes(garbled)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def setup(self):
        self.logged_in = False
        self.last_response: bytes | None = None
        self.sequence: int | None = None

    def handle(self):
        buffer = b""
        sock: socket.socket = self.request
        while True:
            try:
                chunk = sock.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\r" in buffer:
                raw, _, buffer = buffer.partition(b"\r")
                if not self._one(raw + b"\r"):
                    return

    def _send(self, data: bytes) -> bool:
        try:
            self.request.sendall(data)
        except OSError:  # the SC went away (e.g. it timed out while a delay fault slept)
            return False
        return True

    def _one(self, raw: bytes) -> bool:
        """Answer one frame; False closes the connection."""
        sim = self.server.simulator
        try:
            frame = codec.decode(raw, encoding=sim.encoding)
        except SIP2ChecksumError:
            # The spec's answer to a garbled request: ask the SC to send it again.
            return self._send(codec.encode(Message(codec.REQUEST_SC_RESEND), encoding=sim.encoding))
        except SIP2FrameError:
            return True  # the spec: an ACS ignores what it cannot parse
        request = frame.message
        sim.received.append((request.code, frame.sequence))
        self.sequence = frame.sequence
        if request.code == codec.REQUEST_ACS_RESEND:
            if not self.last_response:
                return True
            fault = sim.faults.take(request.code)
            if fault and fault.kind == BAD_CHECKSUM:
                return self._send(_garble(self.last_response))
            return self._send(self.last_response)
        fault = sim.faults.take(request.code)
        if fault and fault.kind == DROP_BEFORE_PROCESSING:
            return False
        if fault and fault.kind == ASK_RESEND:
            return self._send(codec.encode(Message(codec.REQUEST_SC_RESEND), encoding=sim.encoding))
        if fault and fault.kind == DELAY:
            time.sleep(fault.seconds)
        if not self.logged_in and request.code not in (codec.LOGIN, codec.SC_STATUS):
            # An unauthenticated terminal gets nothing: the connection is closed.
            return False
        try:
            with sim.lock:
                response = self._respond(request)
        except SIP2FrameError:
            return True  # a command the simulator does not implement is ignored
        error_detection = frame.checksum is not None
        sequence = frame.sequence if frame.sequence is not None else 0
        if fault and fault.kind == WRONG_SEQUENCE:
            sequence = (sequence + 1) % 10
        data = codec.encode(
            response, sequence=sequence, error_detection=error_detection, encoding=sim.encoding
        )
        self.last_response = data
        if fault and fault.kind == DROP_MID_RESPONSE:
            self._send(data[: len(data) // 2])
            return False
        if fault and fault.kind == BAD_CHECKSUM:
            # Garbled on the wire: the stored response (sent again on 97) stays intact.
            return self._send(_garble(data))
        return self._send(data)

    def _respond(self, request: Message) -> Message:
        sim = self.server.simulator
        handler = {
            codec.LOGIN: self._login,
            codec.SC_STATUS: self._sc_status,
            codec.PATRON_INFORMATION: self._patron_information,
            codec.ITEM_INFORMATION: self._item_information,
            codec.RENEW: self._renew,
        }.get(request.code)
        if handler is None:
            raise SIP2FrameError(f"simulator does not answer {request.code}")
        return handler(request, sim.library, sim.now())

    def _login(self, request, library, now):
        ok = any(
            a.user == request.get("CN") and a.password == request.get("CO")
            for a in library.data.terminal_accounts
        )
        self.logged_in = ok
        return Message(codec.LOGIN_RESPONSE, {"ok": "1" if ok else "0"})

    def _sc_status(self, request, library, now):
        supported = {
            "acs_status",
            "request_sc_acs_resend",
            "login",
            "patron_information",
            "item_information",
            "renew",
        }
        from .sip2.client import BX_SUPPORTED_MESSAGES

        bx = "".join(codec.yn(name in supported) for name in BX_SUPPORTED_MESSAGES)
        return Message(
            codec.ACS_STATUS,
            {
                "online_status": codec.yn(self.server.simulator.online),
                "checkin_ok": "N",
                "checkout_ok": "N",
                "acs_renewal_policy": "Y",
                "status_update_ok": "N",
                "offline_ok": "N",
                "timeout_period": "030",
                "retries_allowed": "003",
                "date_time_sync": codec.sip_datetime(now),
                "protocol_version": "2.00",
            },
            (("AO", library.data.institution), ("AM", library.data.library_name), ("BX", bx)),
        )

    def _patron_information(self, request, library, now):
        patron_id = request.get("AA") or ""
        patron = library.patron(patron_id)
        institution = ("AO", library.data.institution)
        if patron is None:
            fixed = self._patron_fixed(" " * 14, now, 0, 0, 0)
            return Message(
                codec.PATRON_INFORMATION_RESPONSE,
                fixed,
                (
                    institution,
                    ("AA", patron_id),
                    ("AE", ""),
                    ("BL", "N"),
                    ("AF", self.server.simulator.refusal_text("unknown_patron")),
                ),
            )
        status = [" "] * 14
        if patron.blocked:
            status[0] = status[1] = "Y"  # charge and renewal privileges denied
        loans = sorted(library.loans_of(patron_id), key=lambda x: x.item_id)
        overdue = [x for x in loans if x.due_date < library.today]
        holds = library.holds_of(patron_id)
        fixed = self._patron_fixed("".join(status), now, len(holds), len(overdue), len(loans))
        fields = [institution, ("AA", patron_id), ("AE", patron.name), ("BL", "Y")]
        if request.get("AD") is not None:
            fields.append(("CQ", codec.yn(request.get("AD") == patron.pin)))
        summary = request.fixed["summary"]
        lists = {0: holds, 1: [x.item_id for x in overdue], 2: [x.item_id for x in loans]}
        ids = {0: "AS", 1: "AT", 2: "AU"}
        start = int(request.get("BP") or 1)
        end = int(request.get("BQ") or 9999)
        for position, items in lists.items():
            if summary[position : position + 1] == "Y":
                fields += [(ids[position], item) for item in items[start - 1 : end]]
        fields.append(("BE", patron.email))
        if patron.blocked:
            fields.append(("AF", self.server.simulator.refusal_text("patron_blocked")))
        return Message(codec.PATRON_INFORMATION_RESPONSE, fixed, tuple(fields))

    @staticmethod
    def _patron_fixed(status, now, holds, overdue, charged):
        return {
            "patron_status": status,
            "language": "000",
            "transaction_date": codec.sip_datetime(now),
            "hold_items_count": f"{holds:04d}",
            "overdue_items_count": f"{overdue:04d}",
            "charged_items_count": f"{charged:04d}",
            "fine_items_count": "0000",
            "recall_items_count": "0000",
            "unavailable_holds_count": "0000",
        }

    def _item_information(self, request, library, now):
        item_id = request.get("AB") or ""
        item = library.item(item_id)
        fixed = {
            "security_marker": "01",
            "fee_type": "01",
            "transaction_date": codec.sip_datetime(now),
        }
        if item is None:
            fixed["circulation_status"] = "01"
            return Message(
                codec.ITEM_INFORMATION_RESPONSE,
                fixed,
                (
                    ("AB", item_id),
                    ("AJ", ""),
                    ("AF", self.server.simulator.refusal_text("unknown_item")),
                ),
            )
        loan = library.loans.get(item_id)
        fixed["circulation_status"] = "04" if loan else "03"
        fields = [("CF", f"{library.holds_by_others(item_id):04d}")]
        if loan:
            fields.append(("AH", codec.sip_date(loan.due_date)))
        item_type = library.data.item_types[item.type]
        fields += [
            ("AB", item_id),
            ("AJ", item.title),
            ("CK", item_type.media_type),
            ("CH", item.type),
        ]
        return Message(codec.ITEM_INFORMATION_RESPONSE, fixed, tuple(fields))

    def _renew(self, request, library, now):
        sim = self.server.simulator
        patron_id = request.get("AA") or ""
        item_id = request.get("AB") or ""
        # The SC's retry repeats the frame: same sequence number and transaction date.
        replay_key = (patron_id, item_id, request.fixed["transaction_date"], self.sequence)
        if replay_key in sim.renewals_seen:
            return sim.renewals_seen[replay_key]
        refusal, loan = library.renew(patron_id, item_id)
        item = library.item(item_id)
        fields = [
            ("AO", library.data.institution),
            ("AA", patron_id),
            ("AB", item_id),
            ("AJ", item.title if item else ""),
        ]
        if loan is not None and refusal != "not_on_loan":
            fields.append(("AH", codec.sip_date(loan.due_date)))
        if item is not None:
            fields.append(("CK", library.item_type(item_id).media_type))
        if refusal is None:
            sim.renewed.append(item_id)
            fields.append(("AF", f"Omlånad till {loan.due_date.isoformat()}."))
        else:
            fields.append(("AF", sim.refusal_text(refusal)))
        response = Message(
            codec.RENEW_RESPONSE,
            {
                "ok": "1" if refusal is None else "0",
                "renewal_ok": codec.yn(refusal is None),
                "magnetic_media": "N"
                if item and library.item_type(item_id).media_type == "001"
                else "U",
                "desensitize": "U",
                "transaction_date": codec.sip_datetime(now),
            },
            tuple(fields),
        )
        sim.renewals_seen[replay_key] = response
        return response


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: SIP2Simulator


class SIP2Simulator:
    """The simulated ACS; ``start()`` binds a free port (or the one given) on ``host``."""

    def __init__(
        self,
        *,
        data: LibraryData | None = None,
        today: dt.date | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        messages: str = "text",
        online: bool = True,
        encoding: str = "utf-8",
        clock: Callable[[], dt.datetime] | None = None,
    ):
        if messages not in REFUSAL_MESSAGES:
            raise ValueError(f"messages must be one of {sorted(REFUSAL_MESSAGES)}")
        self.data = data or load_library_data()
        self.library = SimulatedLibrary.from_data(self.data, today=today or dt.date.today())
        self.faults = Faults()
        self.messages = messages
        self.online = online
        self.encoding = encoding
        self.lock = threading.Lock()
        self.renewals_seen: dict[tuple[str, str, str, int | None], Message] = {}
        self.renewed: list[str] = []  # item ids renewed, in order (for tests and the demo)
        # (command code, sequence number) of every frame received, in order.
        self.received: list[tuple[str, int | None]] = []
        self._clock = clock
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def now(self) -> dt.datetime:
        if self._clock:
            return self._clock()
        return dt.datetime.combine(self.library.today, dt.datetime.now().time())

    def refusal_text(self, reason: str) -> str:
        return REFUSAL_MESSAGES[self.messages][reason]

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> SIP2Simulator:
        self._server = _Server(self._address, _Handler)
        self._server.simulator = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="sip2-simulator",
        )
        self._thread.start()
        logger.info("SIP2 simulator listening on %s:%s", self.host, self.port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> SIP2Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_simulator(
    port: int = 0, *, today: dt.date | None = None, data: LibraryData | None = None, **options
) -> tuple[str, int, Callable[[], None]]:
    """Start the simulator with the shipped synthetic library; returns (host, port, stop)."""
    simulator = SIP2Simulator(data=data, today=today, port=port, **options).start()
    return simulator.host, simulator.port, simulator.stop
