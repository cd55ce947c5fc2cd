"""The SIP2 wire format: checksums against frames captured from a production ACS, framing,
fixed and variable fields."""

import datetime as dt

import pytest

from flows.bibliotek_aterlan.sip2 import codec
from flows.bibliotek_aterlan.sip2.codec import Message
from flows.bibliotek_aterlan.sip2.errors import (
    SIP2_CHECKSUM_MISMATCH,
    SIP2ChecksumError,
    SIP2FrameError,
)

# ACS Status 98 frames from SirsiDynix Symphony servers, as quoted in the open-source
# MeCard SIP2 client's documentation: independent evidence of the checksum rule.
CAPTURED = [
    b"98YYYYYN60000320130424    1135112.00AOEPLMNA|AMEPLMNA|BXYYYYYYYYYYYNNYYY|ANSIPCHK|AY1AZE80C",
    b"98YYYYNN01000320130808    1509002.00AOst|AMSt. Albert Public Library|BXYYYYYYYYYYYYYYYY"
    b"|ANUnassigned|VNSIP 2.00.106 SirsiDynix Inc. 7.5.074.40|AY1AZD3FA",
]


@pytest.mark.parametrize("frame", CAPTURED)
def test_captured_frames_verify_and_decode(frame):
    """Frames from a real ACS pass the checksum and decode into their fields."""
    decoded = codec.decode(frame + b"\r")
    assert decoded.sequence == 1
    assert decoded.checksum == frame[-4:].decode()
    assert decoded.message.code == codec.ACS_STATUS
    assert decoded.message.fixed["protocol_version"] == "2.00"
    assert decoded.message.get("AO") in ("EPLMNA", "st")


@pytest.mark.parametrize("frame", CAPTURED)
def test_checksum_computes_the_captured_value(frame):
    """The checksum of the bytes up to AZ is what the ACS sent."""
    prefix = frame[: frame.rindex(b"AZ") + 2]
    assert codec.checksum(prefix) == frame[-4:].decode()


@pytest.mark.parametrize("position", [0, 10, 40])
def test_one_changed_byte_is_detected(position):
    """A frame with one byte changed on the wire raises SIP2ChecksumError, never decodes."""
    garbled = bytearray(CAPTURED[0])
    garbled[position] = garbled[position] + 1
    with pytest.raises(SIP2ChecksumError) as info:
        codec.decode(bytes(garbled) + b"\r")
    assert info.value.code == SIP2_CHECKSUM_MISMATCH


def test_encode_renew_round_trip():
    """A Renew encodes with AY/AZ and CR, and decodes to the same fields."""
    message = Message(
        codec.RENEW,
        {
            "third_party_allowed": "N",
            "no_block": "N",
            "transaction_date": codec.sip_datetime(dt.datetime(2026, 12, 1, 2, 30)),
            "nb_due_date": " " * 18,
        },
        (("AO", "KFN-BIBL"), ("AA", "2600100001"), ("AB", "3900000000011")),
    )
    frame = codec.encode(message, sequence=7)
    assert frame.startswith(b"29NN20261201    023000")
    assert frame.endswith(b"\r")
    assert b"|AY7AZ" in frame
    assert codec.checksum_ok(frame[:-1])
    decoded = codec.decode(frame)
    assert decoded.sequence == 7
    assert decoded.message == message


def test_resend_requests_carry_only_a_checksum():
    """96 and 97 have no sequence number, only AZ (as the spec shows them)."""
    frame = codec.encode(Message(codec.REQUEST_ACS_RESEND))
    assert frame[:4] == b"97AZ" and len(frame) == 9
    assert codec.decode(frame).sequence is None


def test_non_ascii_text_is_summed_as_bytes():
    """Swedish letters count by their encoded bytes; the frame still verifies."""
    message = Message(codec.LOGIN_RESPONSE, {"ok": "1"}, (("AF", "Välkommen, Åsa"),))
    frame = codec.encode(message, sequence=0)
    assert codec.decode(frame).message.get("AF") == "Välkommen, Åsa"


def test_frame_without_error_detection():
    """Error detection off: no trailer, and decode accepts the bare frame."""
    frame = codec.encode(Message(codec.LOGIN_RESPONSE, {"ok": "0"}), error_detection=False)
    assert frame == b"940\r"
    assert codec.decode(frame).checksum is None


def test_repeated_fields_keep_order():
    frame = b"30000U20261201    023000AOX|AAP|ABI|AFfirst|AFsecond|AY0AZ"
    frame += codec.checksum(frame).encode() + b"\r"
    message = codec.decode(frame).message
    assert message.all("AF") == ["first", "second"]
    assert message.get("AF") == "first"


@pytest.mark.parametrize(
    "message, error",
    [
        (Message("XX"), "unknown SIP2 command"),
        (Message(codec.LOGIN_RESPONSE, {"ok": "10"}), "must be 1 bytes"),
        (Message(codec.LOGIN_RESPONSE, {}), "is missing"),
        (Message(codec.LOGIN_RESPONSE, {"ok": "1"}, (("AF", "a|b"),)), "delimiter"),
        (Message(codec.LOGIN_RESPONSE, {"ok": "1"}, (("AF", "x" * 256),)), "255"),
    ],
)
def test_invalid_messages_are_refused_on_encode(message, error):
    with pytest.raises(SIP2FrameError, match=error):
        codec.encode(message, sequence=0)


def test_sequence_number_must_be_a_digit():
    with pytest.raises(SIP2FrameError, match="0-9"):
        codec.encode(Message(codec.LOGIN_RESPONSE, {"ok": "1"}), sequence=10)


@pytest.mark.parametrize("frame", [b"XX123\r", b"30\r", b"3\r"])
def test_malformed_frames_raise_frame_error(frame):
    with pytest.raises(SIP2FrameError):
        codec.decode(frame)


def test_crlf_terminated_frames_are_read():
    """An ACS that ends frames with CR LF: the LF is read as the next frame's start."""
    assert codec.decode(b"\n941\r").message.fixed["ok"] == "1"


@pytest.mark.parametrize(
    "value, day",
    [
        ("20261203    235900", dt.date(2026, 12, 3)),
        ("20261203", dt.date(2026, 12, 3)),
        ("2026-12-03", dt.date(2026, 12, 3)),
        ("03/12/2026", None),
        ("", None),
        (None, None),
    ],
)
def test_due_dates_in_either_form(value, day):
    assert codec.parse_sip_date(value) == day
