"""SIP2 errors, each with a named code that tests and callers assert on."""

SIP2_FRAME_INVALID = "sip2_frame_invalid"
SIP2_CHECKSUM_MISMATCH = "sip2_checksum_mismatch"
SIP2_SEQUENCE_MISMATCH = "sip2_sequence_mismatch"
SIP2_UNEXPECTED_RESPONSE = "sip2_unexpected_response"
SIP2_RESEND_REQUESTED = "sip2_resend_requested"
SIP2_CONNECTION_FAILED = "sip2_connection_failed"
SIP2_TIMEOUT = "sip2_timeout"
SIP2_LOGIN_REFUSED = "sip2_login_refused"


class SIP2Error(Exception):
    """Base of every SIP2 error; ``code`` is one of the constants above."""

    code = "sip2_error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class SIP2FrameError(SIP2Error):
    """A frame that is not a well-formed SIP2 message (unknown command, short fixed part)."""

    code = SIP2_FRAME_INVALID


class SIP2ChecksumError(SIP2Error):
    """The AZ checksum of a received frame does not match its bytes."""

    code = SIP2_CHECKSUM_MISMATCH


class SIP2SequenceError(SIP2Error):
    """A response carries another sequence number (AY) than the request it answers."""

    code = SIP2_SEQUENCE_MISMATCH


class SIP2ProtocolError(SIP2Error):
    """The ACS answered with a message that does not answer the request."""

    code = SIP2_UNEXPECTED_RESPONSE


class SIP2ConnectionError(SIP2Error):
    """The connection could not be made, or was lost and the retry failed too."""

    code = SIP2_CONNECTION_FAILED


class SIP2TimeoutError(SIP2Error):
    """The ACS did not answer within the timeout, also after the retry."""

    code = SIP2_TIMEOUT


class SIP2LoginRefused(SIP2Error):
    """Login 93 answered with ok=0: wrong terminal account or password."""

    code = SIP2_LOGIN_REFUSED
