"""The SIP2 2.00 wire format: framing, fixed and variable fields, sequence number and checksum.

A message is a two-character command code, its fixed-length fields in the order the spec
gives, then variable fields ``<2-char id><value>|``, optionally followed by the error-detection
trailer ``AY<sequence digit>AZ<checksum>`` and always by a carriage return. The checksum
is four hex digits of the two's complement of the 16-bit sum of every byte from the first
byte of the message up to and including ``AZ`` (3M SIP2 Developers Guide, "Error
detection"); a receiver adds the checksum's value to that sum and must get 0 (mod 2**16).

Only the messages this robot and its simulator speak are described in ``MESSAGES``; a frame
with another command code is refused with a named error rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .errors import SIP2ChecksumError, SIP2FrameError

CR = b"\r"
FIELD_DELIMITER = "|"
MAX_FIELD_BYTES = 255  # the spec's limit for one variable field
SIP_DATE_WIDTH = 18  # YYYYMMDDZZZZHHMMSS

# Command codes (requests from the SC, the robot; responses from the ACS, the library system).
PATRON_INFORMATION = "63"
PATRON_INFORMATION_RESPONSE = "64"
ITEM_INFORMATION = "17"
ITEM_INFORMATION_RESPONSE = "18"
RENEW = "29"
RENEW_RESPONSE = "30"
LOGIN = "93"
LOGIN_RESPONSE = "94"
SC_STATUS = "99"
ACS_STATUS = "98"
REQUEST_SC_RESEND = "96"  # ACS → SC: your last message arrived garbled, send it again
REQUEST_ACS_RESEND = "97"  # SC → ACS: your last response arrived garbled, send it again

# Fixed-length fields per command, in wire order: (name, width).
MESSAGES: dict[str, tuple[str, tuple[tuple[str, int], ...]]] = {
    LOGIN: ("Login", (("uid_algorithm", 1), ("pwd_algorithm", 1))),
    LOGIN_RESPONSE: ("Login Response", (("ok", 1),)),
    SC_STATUS: (
        "SC Status",
        (("status_code", 1), ("max_print_width", 3), ("protocol_version", 4)),
    ),
    ACS_STATUS: (
        "ACS Status",
        (
            ("online_status", 1),
            ("checkin_ok", 1),
            ("checkout_ok", 1),
            ("acs_renewal_policy", 1),
            ("status_update_ok", 1),
            ("offline_ok", 1),
            ("timeout_period", 3),
            ("retries_allowed", 3),
            ("date_time_sync", SIP_DATE_WIDTH),
            ("protocol_version", 4),
        ),
    ),
    PATRON_INFORMATION: (
        "Patron Information",
        (("language", 3), ("transaction_date", SIP_DATE_WIDTH), ("summary", 10)),
    ),
    PATRON_INFORMATION_RESPONSE: (
        "Patron Information Response",
        (
            ("patron_status", 14),
            ("language", 3),
            ("transaction_date", SIP_DATE_WIDTH),
            ("hold_items_count", 4),
            ("overdue_items_count", 4),
            ("charged_items_count", 4),
            ("fine_items_count", 4),
            ("recall_items_count", 4),
            ("unavailable_holds_count", 4),
        ),
    ),
    ITEM_INFORMATION: ("Item Information", (("transaction_date", SIP_DATE_WIDTH),)),
    ITEM_INFORMATION_RESPONSE: (
        "Item Information Response",
        (
            ("circulation_status", 2),
            ("security_marker", 2),
            ("fee_type", 2),
            ("transaction_date", SIP_DATE_WIDTH),
        ),
    ),
    RENEW: (
        "Renew",
        (
            ("third_party_allowed", 1),
            ("no_block", 1),
            ("transaction_date", SIP_DATE_WIDTH),
            ("nb_due_date", SIP_DATE_WIDTH),
        ),
    ),
    RENEW_RESPONSE: (
        "Renew Response",
        (
            ("ok", 1),
            ("renewal_ok", 1),
            ("magnetic_media", 1),
            ("desensitize", 1),
            ("transaction_date", SIP_DATE_WIDTH),
        ),
    ),
    REQUEST_SC_RESEND: ("Request SC Resend", ()),
    REQUEST_ACS_RESEND: ("Request ACS Resend", ()),
}

# Patron status (14 positions of 64 and 24): 'Y' means the privilege is denied.
PATRON_STATUS_FLAGS = (
    "charge_privileges_denied",
    "renewal_privileges_denied",
    "recall_privileges_denied",
    "hold_privileges_denied",
    "card_reported_lost",
    "too_many_items_charged",
    "too_many_items_overdue",
    "too_many_renewals",
    "too_many_claims_of_items_returned",
    "too_many_items_lost",
    "excessive_outstanding_fines",
    "excessive_outstanding_fees",
    "recall_overdue",
    "too_many_items_billed",
)

# Summary of 63: at most one 'Y', choosing which item list the 64 carries.
SUMMARY_POSITIONS = ("hold", "overdue", "charged", "fine", "recall", "unavailable_hold")

# Circulation status of 18.
CIRCULATION_STATUS = {
    "01": "other",
    "02": "on_order",
    "03": "available",
    "04": "charged",
    "05": "charged_not_to_be_recalled",
    "06": "in_process",
    "07": "recalled",
    "08": "waiting_on_hold_shelf",
    "09": "waiting_to_be_reshelved",
    "10": "in_transit",
    "11": "claimed_returned",
    "12": "lost",
    "13": "missing",
}


@dataclass(frozen=True)
class Message:
    """One SIP2 message: command code, fixed fields by name, variable fields in wire order.

    Variable fields are a list of (id, value) pairs because some (AF screen message, AG
    print line, AU charged items, ...) repeat and their order carries meaning.
    """

    code: str
    fixed: dict[str, str] = field(default_factory=dict)
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return MESSAGES[self.code][0]

    def get(self, field_id: str, default: str | None = None) -> str | None:
        """The first value of a variable field, or ``default`` when absent."""
        return next((v for k, v in self.fields if k == field_id), default)

    def all(self, field_id: str) -> list[str]:
        """Every value of a (repeatable) variable field, in wire order."""
        return [v for k, v in self.fields if k == field_id]


@dataclass(frozen=True)
class Frame:
    """A decoded frame with its transport trailer."""

    message: Message
    sequence: int | None
    checksum: str | None


def checksum(prefix: bytes) -> str:
    """The AZ value for ``prefix``: every byte of the message up to and including ``AZ``."""
    return f"{(-sum(prefix)) & 0xFFFF:04X}"


def checksum_ok(frame_without_cr: bytes) -> bool:
    """Whether a frame ending in ``AZxxxx`` carries the checksum of its bytes."""
    text = frame_without_cr[-4:]
    try:
        value = int(text, 16)
    except ValueError:
        return False
    return (sum(frame_without_cr[:-4]) + value) & 0xFFFF == 0


def encode(
    message: Message,
    *,
    sequence: int | None = None,
    error_detection: bool = True,
    encoding: str = "utf-8",
) -> bytes:
    """The frame for ``message``, CR included.

    With error detection, ordinary messages carry ``AY<seq>AZ<sum>``; the two resend
    requests (96, 97) carry only ``AZ<sum>``, as the spec shows them.
    """
    spec = MESSAGES.get(message.code)
    if spec is None:
        raise SIP2FrameError(f"unknown SIP2 command {message.code!r}")
    body = bytearray(message.code.encode("ascii"))
    for name, width in spec[1]:
        value = message.fixed.get(name)
        if value is None:
            raise SIP2FrameError(f"{message.code}: fixed field {name} is missing")
        data = value.encode(encoding)
        if len(data) != width:
            raise SIP2FrameError(
                f"{message.code}: fixed field {name} must be {width} bytes, got {len(data)}"
            )
        body += data
    for field_id, value in message.fields:
        data = value.encode(encoding)
        if len(field_id) != 2 or FIELD_DELIMITER.encode() in data or b"\r" in data:
            raise SIP2FrameError(f"{message.code}: field {field_id} holds a delimiter or CR")
        if len(data) > MAX_FIELD_BYTES:
            raise SIP2FrameError(f"{message.code}: field {field_id} is longer than 255 bytes")
        body += field_id.encode("ascii") + data + FIELD_DELIMITER.encode()
    if error_detection:
        if message.code not in (REQUEST_SC_RESEND, REQUEST_ACS_RESEND):
            if sequence is None or not 0 <= sequence <= 9:
                raise SIP2FrameError("error detection needs a sequence number 0-9")
            body += f"AY{sequence}".encode("ascii")
        body += b"AZ"
        body += checksum(bytes(body)).encode("ascii")
    return bytes(body) + CR


def decode(frame: bytes, *, encoding: str = "utf-8") -> Frame:
    """The message in ``frame`` (with or without its CR).

    A frame with a trailer whose checksum does not match raises ``SIP2ChecksumError``
    before anything else is read from it: a garbled frame must not be interpreted.
    """
    body = frame[:-1] if frame.endswith(CR) else frame
    body = body.lstrip(b"\n")  # some ACSs end frames with CR LF
    sequence = None
    checksum_text = None
    if len(body) >= 6 and body[-6:-4] == b"AZ":
        if not checksum_ok(body):
            raise SIP2ChecksumError(
                f"checksum {body[-4:].decode('ascii', 'replace')} does not match the frame"
            )
        checksum_text = body[-4:].decode("ascii")
        body = body[:-6]
        if len(body) >= 3 and body[-3:-1] == b"AY" and body[-1:].isdigit():
            sequence = int(body[-1:])
            body = body[:-3]
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SIP2FrameError(f"frame is not valid {encoding}: {exc}") from None
    code = text[:2]
    spec = MESSAGES.get(code)
    if spec is None:
        raise SIP2FrameError(f"unknown SIP2 command {code!r}")
    cursor = 2
    fixed = {}
    for name, width in spec[1]:
        value = text[cursor : cursor + width]
        if len(value) != width:
            raise SIP2FrameError(f"{code}: fixed part too short (field {name})")
        fixed[name] = value
        cursor += width
    fields = []
    rest = text[cursor:]
    for part in rest.split(FIELD_DELIMITER):
        if not part:
            continue
        if len(part) < 2:
            raise SIP2FrameError(f"{code}: variable field {part!r} has no identifier")
        fields.append((part[:2], part[2:]))
    return Frame(
        message=Message(code, fixed, tuple(fields)), sequence=sequence, checksum=checksum_text
    )


def sip_datetime(moment: dt.datetime) -> str:
    """A SIP2 date: ``YYYYMMDDZZZZHHMMSS``; ZZZZ is four blanks for local time."""
    return moment.strftime("%Y%m%d") + "    " + moment.strftime("%H%M%S")


def sip_date(day: dt.date) -> str:
    """A due date as SIP2 date at the end of the day (libraries lend until closing)."""
    return day.strftime("%Y%m%d") + "    235900"


def parse_sip_date(value: str | None) -> dt.date | None:
    """The calendar day of a SIP2 date (``YYYYMMDDZZZZHHMMSS``) or ISO date, else None.

    The spec fixes the format only for fixed fields; ACSs send AH due dates in either
    form, so both are read, and anything else yields None rather than a guess.
    """
    if not value:
        return None
    value = value.strip()
    for candidate, fmt in ((value[:8], "%Y%m%d"), (value[:10], "%Y-%m-%d")):
        try:
            return dt.datetime.strptime(candidate, fmt).date()
        except ValueError:
            continue
    return None


def flag(value: str | None) -> bool:
    """A Y/N or 1/0 fixed field as a bool."""
    return (value or "").strip().upper() in ("Y", "1")


def yn(value: bool) -> str:
    return "Y" if value else "N"
