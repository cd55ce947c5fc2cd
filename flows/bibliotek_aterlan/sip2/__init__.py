"""SIP2 (3M Standard Interchange Protocol 2.00): codec and client (SC side).

Neither package on the index fits: ``sip2`` 1.1 (2021) is a port of a PHP class that
prints from ``__del__`` and writes its own log files; ``pysip2`` 0.1.0 (alpha, 2026) is a
codec and server for the ACS side only, without a client. This package is small and
tested against real captured frames and the simulator.
"""

from .client import ACSStatus, ItemInfo, PatronInfo, RenewResult, SIP2Client
from .errors import (
    SIP2ChecksumError,
    SIP2ConnectionError,
    SIP2Error,
    SIP2FrameError,
    SIP2LoginRefused,
    SIP2ProtocolError,
    SIP2SequenceError,
    SIP2TimeoutError,
)

__all__ = [
    "ACSStatus",
    "ItemInfo",
    "PatronInfo",
    "RenewResult",
    "SIP2Client",
    "SIP2ChecksumError",
    "SIP2ConnectionError",
    "SIP2Error",
    "SIP2FrameError",
    "SIP2LoginRefused",
    "SIP2ProtocolError",
    "SIP2SequenceError",
    "SIP2TimeoutError",
]
