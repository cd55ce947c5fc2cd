"""A SIP2 client (the SC side): one TCP connection to the library system's ACS.

Why each transport rule exists:
- Sequence numbers cycle 0–9 and the ACS echoes them, so a stale answer (one meant for an
  earlier request) is recognised instead of being read as the answer to this one.
- A response whose checksum does not match is never interpreted: the client asks the ACS
  to send it again (97) once, and then gives up with ``SIP2ChecksumError``. An ACS that
  answers 96 (it could not read our message) gets the same frame once more.
- A dropped connection or a timeout closes the socket, connects again, logs in again (a
  login belongs to a connection) and sends the *same frame* once: same sequence number,
  same transaction date, so an ACS that saw the first copy can tell it is a repeat. If
  that fails too, the error names what happened.
Logs carry command codes and sequence numbers only: card numbers are personal data.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from . import codec
from .codec import Message
from .errors import (
    SIP2_RESEND_REQUESTED,
    SIP2ChecksumError,
    SIP2ConnectionError,
    SIP2Error,
    SIP2FrameError,
    SIP2LoginRefused,
    SIP2ProtocolError,
    SIP2SequenceError,
    SIP2TimeoutError,
)

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
BX_SUPPORTED_MESSAGES = (
    "patron_status",
    "checkout",
    "checkin",
    "block_patron",
    "acs_status",
    "request_sc_acs_resend",
    "login",
    "patron_information",
    "end_patron_session",
    "fee_paid",
    "item_information",
    "item_status_update",
    "patron_enable",
    "hold",
    "renew",
    "renew_all",
)


class _Dropped(Exception):
    """The peer closed or reset the connection (internal: turned into a retry)."""


@dataclass(frozen=True)
class ACSStatus:
    online: bool
    renewal_policy: bool
    timeout_period: str
    retries_allowed: str
    protocol_version: str
    institution: str | None
    library_name: str | None
    supported: dict[str, bool]
    screen_messages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PatronInfo:
    patron_id: str
    name: str | None
    valid: bool
    status: dict[str, bool]
    charged_items: list[str]
    hold_items: list[str]
    overdue_items: list[str]
    email: str | None
    screen_messages: list[str]

    @property
    def renewal_denied(self) -> bool:
        return self.status.get("renewal_privileges_denied", False)


@dataclass(frozen=True)
class ItemInfo:
    item_id: str
    title: str | None
    circulation_status: str
    due_date: dt.date | None
    hold_queue_length: int | None
    media_type: str | None
    item_properties: str | None
    screen_messages: list[str]


@dataclass(frozen=True)
class RenewResult:
    ok: bool
    renewal_ok: bool
    patron_id: str | None
    item_id: str | None
    title: str | None
    due_date: dt.date | None
    screen_messages: list[str]
    print_lines: list[str]


class SIP2Client:
    """A synchronous SIP2 client; use as a context manager, then ``login``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        institution: str,
        timeout: float = 5.0,
        retries: int = 1,
        error_detection: bool = True,
        encoding: str = "utf-8",
        terminal_password: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ):
        self.host = host
        self.port = port
        self.institution = institution
        self.timeout = timeout
        self.retries = retries
        self.error_detection = error_detection
        self.encoding = encoding
        self.terminal_password = terminal_password
        self.clock = clock or dt.datetime.now
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._sequence = -1
        self._login: tuple[str, str, str] | None = None
        # How often the client had to connect again or ask for a resend (for the run summary).
        self.reconnects = 0
        self.resends = 0

    # Connection -------------------------------------------------------------------------

    def __enter__(self) -> SIP2Client:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def connect(self) -> None:
        self.close()
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except TimeoutError:
            raise SIP2TimeoutError(
                f"no connection to {self.host}:{self.port} within {self.timeout} s"
            ) from None
        except OSError as exc:
            raise SIP2ConnectionError(
                f"cannot connect to {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None
        self._sock.settimeout(self.timeout)

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._buffer = b""

    def _reconnect(self) -> None:
        self.reconnects += 1
        logger.info("SIP2: connecting again to %s:%s", self.host, self.port)
        self.connect()
        if self._login is not None:
            self._do_login(*self._login)

    # Messages ---------------------------------------------------------------------------

    def login(self, user: str, password: str, *, location: str = "") -> None:
        """Login 93 for this connection; kept so that a reconnect logs in again."""
        self._do_login(user, password, location)
        self._login = (user, password, location)

    def _do_login(self, user: str, password: str, location: str) -> None:
        fields = [("CN", user), ("CO", password)]
        if location:
            fields.append(("CP", location))
        message = Message(codec.LOGIN, {"uid_algorithm": "0", "pwd_algorithm": "0"}, tuple(fields))
        # The login itself is not retried over a new connection: that would recurse.
        seq = self._next_sequence()
        response = self._exchange(self._encode(message, seq), seq, codec.LOGIN_RESPONSE)
        if response.fixed["ok"] != "1":
            raise SIP2LoginRefused(f"the ACS refused the login of terminal account {user!r}")

    def sc_status(self, *, max_print_width: int = 80) -> ACSStatus:
        """SC Status 99 → ACS Status 98: whether the ACS is online and what it supports."""
        message = Message(
            codec.SC_STATUS,
            {
                "status_code": "0",
                "max_print_width": f"{max_print_width:03d}",
                "protocol_version": "2.00",
            },
        )
        r = self._transact(message, codec.ACS_STATUS)
        bx = r.get("BX") or ""
        return ACSStatus(
            online=codec.flag(r.fixed["online_status"]),
            renewal_policy=codec.flag(r.fixed["acs_renewal_policy"]),
            timeout_period=r.fixed["timeout_period"],
            retries_allowed=r.fixed["retries_allowed"],
            protocol_version=r.fixed["protocol_version"],
            institution=r.get("AO"),
            library_name=r.get("AM"),
            supported={name: bx[i : i + 1] == "Y" for i, name in enumerate(BX_SUPPORTED_MESSAGES)},
            screen_messages=r.all("AF"),
        )

    def patron_information(
        self,
        patron_id: str,
        *,
        patron_password: str | None = None,
        summary: str = "charged",
        start: int = 1,
        end: int = 100,
    ) -> PatronInfo:
        """Patron Information 63 → 64, with the item list named by ``summary``."""
        if summary not in codec.SUMMARY_POSITIONS:
            raise ValueError(f"summary must be one of {codec.SUMMARY_POSITIONS}")
        marks = "".join("Y" if name == summary else " " for name in codec.SUMMARY_POSITIONS).ljust(
            10
        )
        fields = [("AO", self.institution), ("AA", patron_id)]
        if self.terminal_password is not None:
            fields.append(("AC", self.terminal_password))
        if patron_password is not None:
            fields.append(("AD", patron_password))
        fields += [("BP", str(start)), ("BQ", str(end))]
        message = Message(
            codec.PATRON_INFORMATION,
            {"language": "000", "transaction_date": self._now(), "summary": marks},
            tuple(fields),
        )
        r = self._transact(message, codec.PATRON_INFORMATION_RESPONSE)
        status = r.fixed["patron_status"]
        return PatronInfo(
            patron_id=r.get("AA") or patron_id,
            name=r.get("AE"),
            valid=codec.flag(r.get("BL")),
            status={n: status[i : i + 1] == "Y" for i, n in enumerate(codec.PATRON_STATUS_FLAGS)},
            charged_items=r.all("AU"),
            hold_items=r.all("AS"),
            overdue_items=r.all("AT"),
            email=r.get("BE"),
            screen_messages=r.all("AF"),
        )

    def item_information(self, item_id: str) -> ItemInfo:
        """Item Information 17 → 18: title, circulation status, due date, hold queue."""
        fields = [("AO", self.institution), ("AB", item_id)]
        if self.terminal_password is not None:
            fields.append(("AC", self.terminal_password))
        message = Message(codec.ITEM_INFORMATION, {"transaction_date": self._now()}, tuple(fields))
        r = self._transact(message, codec.ITEM_INFORMATION_RESPONSE)
        queue = r.get("CF")
        return ItemInfo(
            item_id=r.get("AB") or item_id,
            title=r.get("AJ"),
            circulation_status=codec.CIRCULATION_STATUS.get(r.fixed["circulation_status"], "other"),
            due_date=codec.parse_sip_date(r.get("AH")),
            hold_queue_length=int(queue) if queue and queue.strip().isdigit() else None,
            media_type=r.get("CK"),
            item_properties=r.get("CH"),
            screen_messages=r.all("AF"),
        )

    def renew(
        self, patron_id: str, item_id: str, *, patron_password: str | None = None
    ) -> RenewResult:
        """Renew 29 → 30 for one item on the patron's card. No third-party renewal, no
        off-line ("no block") renewal: the ACS decides now, with its own rules."""
        fields = [("AO", self.institution), ("AA", patron_id)]
        if patron_password is not None:
            fields.append(("AD", patron_password))
        fields.append(("AB", item_id))
        if self.terminal_password is not None:
            fields.append(("AC", self.terminal_password))
        message = Message(
            codec.RENEW,
            {
                "third_party_allowed": "N",
                "no_block": "N",
                "transaction_date": self._now(),
                "nb_due_date": " " * codec.SIP_DATE_WIDTH,
            },
            tuple(fields),
        )
        r = self._transact(message, codec.RENEW_RESPONSE)
        return RenewResult(
            ok=r.fixed["ok"] == "1",
            renewal_ok=codec.flag(r.fixed["renewal_ok"]),
            patron_id=r.get("AA"),
            item_id=r.get("AB"),
            title=r.get("AJ"),
            due_date=codec.parse_sip_date(r.get("AH")),
            screen_messages=r.all("AF"),
            print_lines=r.all("AG"),
        )

    # Transport --------------------------------------------------------------------------

    def _now(self) -> str:
        return codec.sip_datetime(self.clock())

    def _next_sequence(self) -> int:
        self._sequence = (self._sequence + 1) % 10
        return self._sequence

    def _encode(self, message: Message, seq: int) -> bytes:
        return codec.encode(
            message, sequence=seq, error_detection=self.error_detection, encoding=self.encoding
        )

    def _transact(self, message: Message, expect: str) -> Message:
        """Send ``message`` and return its response; one retry over a new connection."""
        seq = self._next_sequence()
        frame = self._encode(message, seq)
        failures = 0
        while True:
            try:
                if self._sock is None:
                    self._reconnect()
                return self._exchange(frame, seq, expect)
            except (_Dropped, TimeoutError) as exc:
                failures += 1
                timed_out = isinstance(exc, TimeoutError)
                self.close()
                if failures > self.retries:
                    what = codec.MESSAGES[message.code][0]
                    if timed_out:
                        raise SIP2TimeoutError(
                            f"{what}: no answer within {self.timeout} s, also after "
                            f"{self.retries} retry over a new connection"
                        ) from None
                    raise SIP2ConnectionError(
                        f"{what}: the connection was lost, also after {self.retries} retry"
                    ) from None
                logger.warning(
                    "SIP2 %s seq %s: %s; retrying over a new connection",
                    message.code,
                    seq,
                    "timeout" if timed_out else "connection lost",
                )
                try:
                    self._reconnect()
                except (_Dropped, TimeoutError):
                    self.close()

    def _exchange(self, frame: bytes, seq: int, expect: str) -> Message:
        self._send(frame)
        resends = 0
        while True:
            raw = self._read_frame()
            try:
                decoded = codec.decode(raw, encoding=self.encoding)
            except SIP2ChecksumError:
                if resends >= 1:
                    raise
                resends += 1
                self.resends += 1
                logger.warning("SIP2 seq %s: response checksum mismatch; sending 97", seq)
                self._send(
                    codec.encode(
                        Message(codec.REQUEST_ACS_RESEND),
                        error_detection=self.error_detection,
                        encoding=self.encoding,
                    )
                )
                continue
            response = decoded.message
            if response.code == codec.REQUEST_SC_RESEND:
                if resends >= 1:
                    raise SIP2Error(
                        "the ACS could not read the message, also when sent again",
                        code=SIP2_RESEND_REQUESTED,
                    )
                resends += 1
                self.resends += 1
                logger.warning("SIP2 seq %s: the ACS asked for a resend (96)", seq)
                self._send(frame)
                continue
            if response.code != expect:
                raise SIP2ProtocolError(
                    f"expected {codec.MESSAGES[expect][0]} ({expect}), got {response.name} "
                    f"({response.code})"
                )
            if self.error_detection and decoded.sequence is not None and decoded.sequence != seq:
                raise SIP2SequenceError(
                    f"{response.name} carries sequence number {decoded.sequence}, expected {seq}"
                )
            return response

    def _send(self, frame: bytes) -> None:
        if self._sock is None:
            raise _Dropped()
        try:
            self._sock.sendall(frame)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            raise _Dropped() from None

    def _read_frame(self) -> bytes:
        while b"\r" not in self._buffer:
            if len(self._buffer) > MAX_FRAME_BYTES:
                raise SIP2FrameError(f"no message terminator within {MAX_FRAME_BYTES} bytes")
            try:
                chunk = self._sock.recv(4096)
            except (ConnectionResetError, ConnectionAbortedError):
                raise _Dropped() from None
            if not chunk:
                raise _Dropped()
            self._buffer += chunk
        frame, _, self._buffer = self._buffer.partition(b"\r")
        return frame + b"\r"
