"""A simulated library system (SIP2 ACS) on a free local port, and a logged-in client."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

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


@pytest.fixture
def web():
    """Django's test client (``client`` is the SIP2 client in this folder)."""
    return Client()


@pytest.fixture
def library(settings, tmp_path, monkeypatch):
    """The simulator on a free port, configured through the LIBRARY_* settings with tonight's
    loans export written to a file, as a real library system would be."""
    for name in ("LIBRARY_SIP2_HOST", "LIBRARY_SIP2_PORT", "LIBRARY_LOANS_EXPORT"):
        monkeypatch.delenv(name, raising=False)
    with SIP2Simulator(today=timezone.localdate()) as simulator:
        export = tmp_path / "loans.csv"
        export.write_text(simulator.library.export_csv(), encoding="utf-8")
        account = simulator.data.terminal_accounts[0]
        settings.LIBRARY_SIP2_HOST = simulator.host
        settings.LIBRARY_SIP2_PORT = simulator.port
        settings.LIBRARY_SIP2_INSTITUTION = simulator.data.institution
        settings.LIBRARY_SIP2_LOGIN_USER = account.user
        settings.LIBRARY_SIP2_LOGIN_PASSWORD = account.password
        settings.LIBRARY_SIP2_LOCATION = account.location
        settings.LIBRARY_LOANS_EXPORT = str(export)
        settings.LIBRARY_SIP2_TIMEOUT = 2
        yield simulator
