"""Fault injection for the fault tests only: a robot's process killed between two steps.

A robot's steps are idempotent per material version (approvals.services.robot), so a
process killed anywhere, and the run restarted by the watchdog, repeats nothing that took
effect. The fault tests (tests/faults/) prove it by killing the real process at each of
the points below. The points are named here once; the services call `kill_point(name)`.

    ROBOTFABRIK_FAULT_KILL_AFTER=<point>   SIGKILL this process when it reaches <point>
    ROBOTFABRIK_FAULT_ONCE_FILE=<path>     ...only the first time (the file records it), so
                                           that the restarted run gets past the point
    ROBOTFABRIK_FAULT_HOLD_AFTER=<point>   sleep there instead (ROBOTFABRIK_FAULT_HOLD_SECONDS,
                                           default 300): runs pile up mid-step for a test
                                           that kills the whole runner from outside

Never active in production: only when settings.LOCAL_RUN (a test run, `make demo`, or
DEBUG) and the variable is set; a production deployment (LOCAL_RUN false) ignores them,
and `manage.py check --deploy` reports them (approvals.checks).
"""

import os
import signal
import time

# The points, in the order a bistånd run passes them.
REGISTER_SNAPSHOT = "register-snapshot"  # the register answers are stored (committed)
MATERIAL = "material"  # material row written, its request not yet (inside one transaction)
REQUEST = "request"  # material and its open request committed; the run has not suspended
VERIFIED = "verified"  # after the signature the resumed run verified it; no letter yet
LETTER = "letter"  # the signed decision's letter is stored and the case closed (committed)
COMPLETION = "completion"  # the step that wrote the letter returned; the run is not completed
KILL_POINTS = (REGISTER_SNAPSHOT, MATERIAL, REQUEST, VERIFIED, LETTER, COMPLETION)

KILL_ENV = "ROBOTFABRIK_FAULT_KILL_AFTER"
ONCE_ENV = "ROBOTFABRIK_FAULT_ONCE_FILE"
HOLD_ENV = "ROBOTFABRIK_FAULT_HOLD_AFTER"
HOLD_SECONDS_ENV = "ROBOTFABRIK_FAULT_HOLD_SECONDS"
FAULT_ENVS = (KILL_ENV, ONCE_ENV, HOLD_ENV, HOLD_SECONDS_ENV)


def _enabled() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "LOCAL_RUN", False))


def _first_time(path: str) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(f"{os.getpid()}\n")
    return True


def kill_point(name: str) -> None:
    """Where a fault test may kill (or hold) this process; nothing at all otherwise."""
    if name not in KILL_POINTS:
        raise ValueError(f"unknown kill point {name!r}; known: {KILL_POINTS}")
    kill, hold = os.environ.get(KILL_ENV), os.environ.get(HOLD_ENV)
    if name not in (kill, hold) or not _enabled():
        return
    once = os.environ.get(ONCE_ENV)
    if once and not _first_time(f"{once}.{name}"):
        return
    if name == hold:
        time.sleep(float(os.environ.get(HOLD_SECONDS_ENV, "300")))
        return
    os.kill(os.getpid(), signal.SIGKILL)
