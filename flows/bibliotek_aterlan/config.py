"""Where the library system is: read from Django settings (or the environment) at call time.

| setting                       | meaning                                                    |
|-------------------------------|------------------------------------------------------------|
| `LIBRARY_SIP2_HOST`, `_PORT`  | the ACS (library system's SIP2 server)                     |
| `LIBRARY_SIP2_INSTITUTION`    | institution id (AO)                                        |
| `LIBRARY_SIP2_LOGIN_USER`, `LIBRARY_SIP2_LOGIN_PASSWORD`, `LIBRARY_SIP2_LOCATION` | terminal account (93) |
| `LIBRARY_SIP2_TIMEOUT`        | seconds per answer (default 5)                             |
| `LIBRARY_LOANS_EXPORT`        | path of tonight's loans export (CSV, format version 1)      |
| `LIBRARY_SIP2_PATRONS`        | comma-separated card numbers whose loans are read over 63/64 |
| `LIBRARY_DUE_WITHIN_DAYS`     | loans due within this many days are renewed (default 3)     |

When no host is configured (the demo, `run_demo`), the flow starts the bundled SIP2
simulator in its own process on a free local port, with the synthetic library of
data/bibliotek_aterlan/, and takes tonight's loans from the simulator's export. That is
still SIP2 over TCP; only the library system is simulated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass

from django.conf import settings

DEFAULT_DUE_WITHIN_DAYS = 3


def _setting(name: str, default=None):
    value = getattr(settings, name, None)
    if value in (None, ""):
        value = os.environ.get(name, default)
    return default if value in (None, "") else value


class LibraryConfigError(Exception):
    """The configured library connection is incomplete."""


@dataclass(frozen=True)
class LibraryConnection:
    host: str
    port: int
    institution: str
    user: str
    password: str
    location: str
    timeout: float
    export_path: str | None
    patron_ids: tuple[str, ...]
    simulated: bool
    export_csv: str | None = None  # the simulator's export, when simulated


def due_within_days() -> int:
    return int(_setting("LIBRARY_DUE_WITHIN_DAYS", DEFAULT_DUE_WITHIN_DAYS))


def configured_host() -> str | None:
    return _setting("LIBRARY_SIP2_HOST")


@contextlib.contextmanager
def library_connection(*, today: dt.date):
    """The connection to use for tonight's run; starts (and stops) the simulator if none is set."""
    host = configured_host()
    if host is None:
        from .simulator import SIP2Simulator

        simulator = SIP2Simulator(today=today).start()
        account = simulator.data.terminal_accounts[0]
        try:
            yield LibraryConnection(
                host=simulator.host,
                port=simulator.port,
                institution=simulator.data.institution,
                user=account.user,
                password=account.password,
                location=account.location,
                timeout=float(_setting("LIBRARY_SIP2_TIMEOUT", 5)),
                export_path=None,
                patron_ids=(),
                simulated=True,
                export_csv=simulator.library.export_csv(),
            )
        finally:
            simulator.stop()
        return
    port = _setting("LIBRARY_SIP2_PORT")
    institution = _setting("LIBRARY_SIP2_INSTITUTION")
    user = _setting("LIBRARY_SIP2_LOGIN_USER")
    password = _setting("LIBRARY_SIP2_LOGIN_PASSWORD")
    export_path = _setting("LIBRARY_LOANS_EXPORT")
    patrons = tuple(
        p.strip() for p in str(_setting("LIBRARY_SIP2_PATRONS", "")).split(",") if p.strip()
    )
    missing = [
        name
        for name, value in (
            ("LIBRARY_SIP2_PORT", port),
            ("LIBRARY_SIP2_INSTITUTION", institution),
            ("LIBRARY_SIP2_LOGIN_USER", user),
            ("LIBRARY_SIP2_LOGIN_PASSWORD", password),
        )
        if value is None
    ]
    if not export_path and not patrons:
        missing.append("LIBRARY_LOANS_EXPORT or LIBRARY_SIP2_PATRONS")
    if missing:
        raise LibraryConfigError("the library connection needs " + ", ".join(missing))
    yield LibraryConnection(
        host=host,
        port=int(port),
        institution=institution,
        user=user,
        password=password,
        location=_setting("LIBRARY_SIP2_LOCATION", ""),
        timeout=float(_setting("LIBRARY_SIP2_TIMEOUT", 5)),
        export_path=export_path,
        patron_ids=patrons,
        simulated=False,
    )
