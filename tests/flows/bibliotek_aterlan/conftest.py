"""A simulated library system (SIP2 ACS) on a free local port, and a logged-in client."""

import datetime as dt

import pytest

from flows.bibliotek_aterlan.simulator import SIP2Simulator
from flows.bibliotek_aterlan.sip2 import SIP2Client

TODAY = dt.date(2026, 12, 1)
NOW = dt.datetime(2026, 12, 1, 2, 30, 0)  # the nightly run


@pytest.fixture
def simulator():
    with SIP2Simulator(today=TODAY, clock=lambda: NOW) as sim:
        yield sim


@pytest.fixture
def connect(simulator):
    """A function returning a connected client (logged in unless login=False)."""
    clients = []

    def make(*, login=True, timeout=0.5, **options):
        client = SIP2Client(
            simulator.host,
            simulator.port,
            institution=simulator.data.institution,
            timeout=timeout,
            clock=lambda: NOW,
            **options,
        )
        client.connect()
        clients.append(client)
        if login:
            account = simulator.data.terminal_accounts[0]
            client.login(account.user, account.password, location=account.location)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(connect):
    return connect()
