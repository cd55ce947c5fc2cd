"""Waiting on a real Prefect server (the `prefect_stack` fixture is in tests/conftest.py)."""

import time
from pathlib import Path


def flow_run_state(flow_run_id) -> str:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
    return run.state.type.value if run.state else "NONE"


def wait_for_state(
    flow_run_id, states: set[str], *, timeout: float = 120, logs: Path | None = None
) -> str:
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = flow_run_state(flow_run_id)
        if state in states:
            return state
        if state in {"FAILED", "CRASHED", "CANCELLED"}:
            break
        time.sleep(0.5)
    detail = (logs / "runner.log").read_text(errors="replace")[-4000:] if logs else ""
    raise AssertionError(f"flow run {flow_run_id} is {state}, expected {states}\n{detail}")


def wait_for(predicate, *, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")
