"""A whole run (renewal_run) against the simulator over TCP."""

import pytest

from flows.bibliotek_aterlan import simulator as sim_module
from flows.bibliotek_aterlan.export import loans_export_parse
from flows.bibliotek_aterlan.renewals import (
    LIBRARY_OFFLINE,
    LibraryUnavailable,
    loans_from_patrons,
    renewal_run,
)
from flows.bibliotek_aterlan.rules import due_loan_from_export
from flows.bibliotek_aterlan.simulator import SIP2Simulator
from flows.bibliotek_aterlan.sip2 import SIP2Client, codec

from .conftest import NOW, TODAY


def export_loans(simulator):
    return [due_loan_from_export(r) for r in loans_export_parse(simulator.library.export_csv())]


def login(sim, **options):
    client = SIP2Client(
        sim.host, sim.port, institution=sim.data.institution, timeout=0.5, **options
    )
    client.connect()
    account = sim.data.terminal_accounts[0]
    client.login(account.user, account.password)
    return client


def test_koha_style_codes_are_classified():
    """An ACS that puts Koha's error codes in AF gives the same reasons as one with text."""
    with SIP2Simulator(today=TODAY, clock=lambda: NOW, messages="codes") as sim:
        with login(sim) as client:
            run = renewal_run(client=client, loans=export_loans(sim), today=TODAY, within_days=3)
    reasons = {o.loan.item_id: o.reason for o in run.outcomes if o.reason}
    assert reasons == {
        "3900000000066": "not_renewable",
        "3900000000028": "reserved",
        "3900000000073": "patron_blocked",
        "3900000000035": "limit_reached",
    }
    assert all(o.detail == "reason from the screen message" for o in run.outcomes if o.reason)


def test_lost_connection_on_one_loan_does_not_stop_the_run(simulator, client):
    """A Renew whose retry fails too is an error exception; the next loans are renewed."""
    simulator.faults.add(sim_module.DROP_BEFORE_PROCESSING, command=codec.RENEW, times=2)
    run = renewal_run(client=client, loans=export_loans(simulator), today=TODAY, within_days=3)
    first = run.outcomes[0]
    assert (first.status, first.reason) == ("exception", "error")
    assert first.detail.startswith("sip2_connection_failed")
    assert sum(o.status == "renewed" for o in run.outcomes) == 4
    assert run.reconnects >= 2


def test_offline_library_is_not_asked_to_renew():
    """An ACS reporting off-line (98 online N): nothing is sent, a named error."""
    with SIP2Simulator(today=TODAY, clock=lambda: NOW, online=False) as sim:
        with login(sim) as client, pytest.raises(LibraryUnavailable) as info:
            renewal_run(client=client, loans=export_loans(sim), today=TODAY, within_days=3)
        assert info.value.code == LIBRARY_OFFLINE
        assert codec.RENEW not in {c for c, _ in sim.received}


def test_loans_from_patrons_reads_due_dates_and_holds(simulator, client):
    """63/64 then 17/18: each charged item with its due date, title and hold queue."""
    loans = loans_from_patrons(client=client, patron_ids=["2600100001", "2600100004", "0000000"])
    by_item = {x.item_id: x for x in loans}
    assert set(by_item) == {"3900000000011", "3900000000028", "3900000000073"}
    assert by_item["3900000000028"].holds_by_others == 1
    assert by_item["3900000000073"].patron_blocked is True
    assert by_item["3900000000011"].patron_email == "astrid.testsson@example.org"
    assert by_item["3900000000011"].renewals is None  # SIP2 does not say


def test_run_without_error_detection(simulator):
    """An SC configured without AY/AZ still works (the ACS answers without a trailer)."""
    with login(simulator, error_detection=False) as client:
        run = renewal_run(client=client, loans=export_loans(simulator), today=TODAY, within_days=3)
    assert sum(o.status == "renewed" for o in run.outcomes) == 5
    assert {seq for _, seq in simulator.received} == {None}
