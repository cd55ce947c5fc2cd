"""A real Prefect server and flow runner for end-to-end tests.

The server gets its own home, SQLite database and result storage in a temporary
folder; the runner serves the process deployments and runs each flow run in a
child process against the pytest-django test database.
"""

import time
from pathlib import Path

import pytest

from municipality import runtime

DEPLOYMENT = "ekonomiskt-bistand/ekonomiskt-bistand"


@pytest.fixture(scope="session")
def prefect_stack(django_db_setup, tmp_path_factory):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path_factory.mktemp("prefect-home")
    port = runtime.free_port()
    env = {
        **runtime.prefect_env(home=home, port=port),
        **runtime.database_env(),
        "REGISTER_RETRY_DELAY_SECONDS": "0",
    }
    logs = Path(home)
    server = runtime.start_prefect_server(env=env, log=logs / "server.log", ui=False)
    runner = None
    try:
        runtime.wait_for_http(f"http://127.0.0.1:{port}/api/health", proc=server, timeout=120)
        with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}):
            runner = runtime.start_flow_runner(env=env, log=logs / "runner.log")
            runtime.wait_for_deployment(DEPLOYMENT, proc=runner, timeout=120)
            yield {"home": Path(home), "env": env, "url": env["PREFECT_API_URL"], "logs": logs}
    finally:
        if runner is not None:
            runtime.stop(runner)
        runtime.stop(server)


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
