"""A simulated library configured as the robot's library system, and the night run's helpers."""

import datetime as dt

import pytest
from django.utils import timezone

from flows.bibliotek_aterlan.simulator import SIP2Simulator

RENEWED_ITEMS = {"3900000000011", "3900000000042", "3900000000059", "3900000000097", "3900000000103"}
EXCEPTION_REASONS = {
    "3900000000028": "reserved",
    "3900000000035": "limit_reached",
    "3900000000066": "not_renewable",
    "3900000000073": "patron_blocked",
}
PATRONS_WITH_LOANS_DUE = 6


def night() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def library(settings, tmp_path, monkeypatch):
    """The simulator on a free port, configured through the LIBRARY_* settings with tonight's
    loans export written to a file, as a real library system would be."""
    for name in ("LIBRARY_SIP2_HOST", "LIBRARY_SIP2_PORT", "LIBRARY_LOANS_EXPORT"):
        monkeypatch.delenv(name, raising=False)
    with SIP2Simulator(today=night()) as simulator:
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
