"""The SIP2 client against the simulated library system over real TCP."""

import datetime as dt
import socket

import pytest

from flows.bibliotek_aterlan import simulator as sim_module
from flows.bibliotek_aterlan.sip2 import SIP2Client, codec
from flows.bibliotek_aterlan.sip2.codec import Message
from flows.bibliotek_aterlan.sip2.errors import (
    SIP2_CHECKSUM_MISMATCH,
    SIP2_CONNECTION_FAILED,
    SIP2_LOGIN_REFUSED,
    SIP2_RESEND_REQUESTED,
    SIP2_SEQUENCE_MISMATCH,
    SIP2_TIMEOUT,
    SIP2ChecksumError,
    SIP2ConnectionError,
    SIP2Error,
    SIP2LoginRefused,
    SIP2SequenceError,
    SIP2TimeoutError,
)

from .conftest import TODAY

ALICE = "2600100001"  # Astrid: Kallocain renewable, Röda rummet reserved by Eva
BERTIL = "2600100002"  # Gösta Berlings saga at the renewal limit
CECILIA = "2600100003"  # Doktor Glas is an express loan (not renewable)
DAVID = "2600100004"  # blocked
KALLOCAIN, ROKA_RUMMET, GOSTA, DOKTOR_GLAS, UTVANDRARNA = (
    "3900000000011",
    "3900000000028",
    "3900000000035",
    "3900000000066",
    "3900000000073",
)


def test_login_and_status(client):
    """After Login 93, SC Status 99 answers that the ACS is online and supports Renew."""
    status = client.sc_status()
    assert status.online
    assert status.protocol_version == "2.00"
    assert status.institution == "KFN-BIBL"
    assert status.supported["renew"] and status.supported["patron_information"]
    assert not status.supported["checkout"]


def test_login_refused(connect):
    """A wrong terminal password answers 94 with ok=0: SIP2LoginRefused, not a silent session."""
    client = connect(login=False)
    with pytest.raises(SIP2LoginRefused) as info:
        client.login("aterlan-robot", "wrong")
    assert info.value.code == SIP2_LOGIN_REFUSED


def test_requests_before_login_are_refused(connect):
    """Without a login the ACS closes the connection; after one retry the error is clear."""
    client = connect(login=False)
    with pytest.raises(SIP2ConnectionError) as info:
        client.renew(ALICE, KALLOCAIN)
    assert info.value.code == SIP2_CONNECTION_FAILED


def test_connection_refused():
    """No server on the port: a SIP2ConnectionError naming host and port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SIP2ConnectionError, match=f"127.0.0.1:{port}"):
        SIP2Client("127.0.0.1", port, institution="X", timeout=0.5).connect()


def test_patron_information_lists_charged_items(client):
    """63/64 gives the patron's name, e-mail and charged items (AU)."""
    patron = client.patron_information(ALICE)
    assert patron.valid
    assert patron.name == "Astrid Testsson"
    assert patron.email == "astrid.testsson@example.org"
    assert sorted(patron.charged_items) == [KALLOCAIN, ROKA_RUMMET]
    assert not patron.renewal_denied


def test_patron_information_of_blocked_patron(client):
    """A blocked patron's status denies charge and renewal privileges."""
    patron = client.patron_information(DAVID)
    assert patron.renewal_denied and patron.status["charge_privileges_denied"]
    assert patron.screen_messages


def test_patron_information_of_unknown_patron(client):
    assert not client.patron_information("9999999999").valid


def test_item_information(client):
    """17/18 gives the title, the due date and the hold queue (other patrons' holds)."""
    item = client.item_information(ROKA_RUMMET)
    assert item.title == "Röda rummet"
    assert item.circulation_status == "charged"
    assert item.due_date == TODAY + dt.timedelta(days=2)
    assert item.hold_queue_length == 1


def test_renew_success(client, simulator):
    """A renewable loan without holds: ok=1, renewal ok, AH moved on by the loan period."""
    result = client.renew(ALICE, KALLOCAIN)
    assert result.ok and result.renewal_ok
    assert result.due_date == TODAY + dt.timedelta(days=1 + 28)
    assert simulator.library.loans[KALLOCAIN].renewals == 1
    assert simulator.library.loans[KALLOCAIN].due_date == result.due_date


@pytest.mark.parametrize(
    "patron, item, text",
    [
        (ALICE, ROKA_RUMMET, "Reserverad av annan låntagare."),
        (BERTIL, GOSTA, "Max antal omlån uppnått."),
        (DAVID, UTVANDRARNA, "Lånekortet är spärrat. Kontakta biblioteket."),
        (CECILIA, DOKTOR_GLAS, "Medietypen kan inte lånas om."),
        (ALICE, GOSTA, "Exemplaret är inte utlånat till låntagaren."),
    ],
)
def test_renew_refusals(client, simulator, patron, item, text):
    """Each refusal answers 30 with ok=0, renewal not ok, the reason in AF; nothing changes."""
    before = simulator.library.loans[item].due_date
    result = client.renew(patron, item)
    assert not result.ok and not result.renewal_ok
    assert result.screen_messages == [text]
    assert simulator.library.loans[item].due_date == before
    assert simulator.renewed == []


def test_sequence_numbers_cycle_through_ten(client, simulator):
    """Every request carries the next sequence number 0–9, wrapping to 0."""
    for _ in range(11):
        client.sc_status()
    sequences = [seq for code, seq in simulator.received]
    assert sequences == [n % 10 for n in range(12)]  # the login was 0


def test_wrong_sequence_in_response_is_refused(client, simulator):
    simulator.faults.add(sim_module.WRONG_SEQUENCE, command=codec.SC_STATUS)
    with pytest.raises(SIP2SequenceError) as info:
        client.sc_status()
    assert info.value.code == SIP2_SEQUENCE_MISMATCH


def test_drop_before_processing_reconnects_and_renews_once(client, simulator):
    """The connection drops after the Renew was sent: the client connects again, logs in and
    sends the same frame (same sequence number); the loan is renewed exactly once."""
    simulator.faults.add(sim_module.DROP_BEFORE_PROCESSING, command=codec.RENEW)
    result = client.renew(ALICE, KALLOCAIN)
    assert result.ok
    assert client.reconnects == 1
    renews = [seq for code, seq in simulator.received if code == codec.RENEW]
    assert len(renews) == 2 and renews[0] == renews[1]
    assert simulator.library.loans[KALLOCAIN].renewals == 1


def test_drop_mid_response_is_not_renewed_twice(client, simulator):
    """Half an answer, then the connection drops after the ACS renewed: the retry gets the
    first answer again (same transaction date) and the loan is renewed once, not twice."""
    simulator.faults.add(sim_module.DROP_MID_RESPONSE, command=codec.RENEW)
    result = client.renew(ALICE, KALLOCAIN)
    assert result.ok
    assert result.due_date == TODAY + dt.timedelta(days=29)
    assert simulator.library.loans[KALLOCAIN].renewals == 1
    assert simulator.renewed == [KALLOCAIN]


def test_drop_twice_reports_a_connection_error(client, simulator):
    """When the retry drops too, the error says so and nothing was renewed."""
    simulator.faults.add(sim_module.DROP_BEFORE_PROCESSING, command=codec.RENEW, times=2)
    with pytest.raises(SIP2ConnectionError, match="Renew: the connection was lost") as info:
        client.renew(ALICE, KALLOCAIN)
    assert info.value.code == SIP2_CONNECTION_FAILED
    assert simulator.library.loans[KALLOCAIN].renewals == 0


def test_client_recovers_after_a_dropped_connection(client, simulator):
    """After a failed message the same client keeps working (it reconnects on the next)."""
    simulator.faults.add(sim_module.DROP_BEFORE_PROCESSING, command=codec.RENEW, times=2)
    with pytest.raises(SIP2ConnectionError):
        client.renew(ALICE, KALLOCAIN)
    assert client.renew(ALICE, KALLOCAIN).ok


def test_bad_checksum_in_response_asks_for_resend(client, simulator):
    """A garbled answer is not read: the client sends 97 and reads the ACS's resent answer."""
    simulator.faults.add(sim_module.BAD_CHECKSUM, command=codec.RENEW)
    result = client.renew(ALICE, KALLOCAIN)
    assert result.ok
    assert client.resends == 1
    assert (codec.REQUEST_ACS_RESEND, None) in simulator.received
    assert simulator.library.loans[KALLOCAIN].renewals == 1


def test_bad_checksum_twice_is_an_error(client, simulator):
    """A resent answer garbled again raises SIP2ChecksumError (checked, never guessed)."""
    simulator.faults.add(sim_module.BAD_CHECKSUM, command=codec.RENEW)
    simulator.faults.add(sim_module.BAD_CHECKSUM, command=codec.REQUEST_ACS_RESEND)
    with pytest.raises(SIP2ChecksumError) as info:
        client.renew(ALICE, KALLOCAIN)
    assert info.value.code == SIP2_CHECKSUM_MISMATCH


def test_server_answers_96_to_a_garbled_request(simulator):
    """A request with a wrong checksum gets Request SC Resend 96 from the ACS."""
    frame = bytearray(
        codec.encode(
            Message(
                codec.SC_STATUS,
                {"status_code": "0", "max_print_width": "080", "protocol_version": "2.00"},
            ),
            sequence=0,
        )
    )
    frame[4] = ord("9") if frame[4] != ord("9") else ord("8")
    with socket.create_connection((simulator.host, simulator.port), timeout=1) as s:
        s.sendall(bytes(frame))
        answer = s.recv(100)
    assert codec.decode(answer).message.code == codec.REQUEST_SC_RESEND


def test_request_sc_resend_is_answered_by_sending_again(client, simulator):
    """On 96 the client sends the same frame once more and reads the answer."""
    simulator.faults.add(sim_module.ASK_RESEND, command=codec.RENEW)
    assert client.renew(ALICE, KALLOCAIN).ok
    assert client.resends == 1
    assert [c for c, _ in simulator.received].count(codec.RENEW) == 2


def test_request_sc_resend_twice_is_an_error(client, simulator):
    simulator.faults.add(sim_module.ASK_RESEND, command=codec.RENEW, times=2)
    with pytest.raises(SIP2Error) as info:
        client.renew(ALICE, KALLOCAIN)
    assert info.value.code == SIP2_RESEND_REQUESTED


def test_slow_answer_is_retried_once(client, simulator):
    """No answer within the timeout: a new connection and one retry, which succeeds."""
    simulator.faults.add(sim_module.DELAY, command=codec.SC_STATUS, seconds=0.6)
    assert client.sc_status().online
    assert client.reconnects == 1


def test_timeout_after_retry(client, simulator):
    """No answer within the timeout, twice: SIP2TimeoutError naming the message."""
    simulator.faults.add(sim_module.DELAY, command=codec.SC_STATUS, seconds=0.6, times=2)
    with pytest.raises(SIP2TimeoutError, match="SC Status: no answer within 0.5 s") as info:
        client.sc_status()
    assert info.value.code == SIP2_TIMEOUT


def test_start_simulator_returns_host_port_stop():
    """The demo's entry point binds a free port and stops cleanly."""
    host, port, stop = sim_module.start_simulator(today=TODAY)
    try:
        with SIP2Client(host, port, institution="KFN-BIBL", timeout=1) as client:
            client.login("aterlan-robot", "syntetiskt-demo-2026")
            assert client.sc_status().online
    finally:
        stop()
    with pytest.raises(SIP2ConnectionError):
        SIP2Client(host, port, institution="KFN-BIBL", timeout=0.5).connect()
