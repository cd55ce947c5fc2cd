"""A real Prefect server for the warm worker's tests, and a way to start real workers.

The pattern of tests/conftest.py's prefect_stack, with `python -m flows.worker` in place
of `python -m flows.serve` and the tiny flow of tests/worker/warm_flow.py.
"""

import json
import re
import sys
import time
from pathlib import Path

import pytest

WARM_FLOWS = "tests.worker.warm_flow:warm_demo"
DEPLOYMENT = "warm-demo/warm-demo"
READY_LINE = re.compile(r"fork server (\d+) ready; worker pid (\d+)")


@pytest.fixture(scope="session")
def warm_server(tmp_path_factory):
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    from municipality import runtime

    home = tmp_path_factory.mktemp("warm-prefect")
    port = runtime.free_port()
    env = {
        **runtime.prefect_env(home=home, port=port),
        "ROBOTFABRIK_WARM_FLOWS": WARM_FLOWS,
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "1",
    }
    server = runtime.start_prefect_server(env=env, log=home / "server.log", ui=False)
    try:
        runtime.wait_for_http(f"http://127.0.0.1:{port}/api/health", proc=server, timeout=120)
        with temporary_settings(
            updates={
                PREFECT_API_URL: env["PREFECT_API_URL"],
                PREFECT_API_AUTH_STRING: env["PREFECT_API_AUTH_STRING"],
            }
        ):
            yield {"home": Path(home), "env": env}
    finally:
        runtime.stop(server)


class Worker:
    """A running `python -m flows.worker`, its fork server's pid and its log."""

    def __init__(self, proc, log: Path):
        self.proc = proc
        self.log = log
        self.pid = proc.pid
        self.fork_server_pid: int | None = None

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text() if self.log.exists() else ""
            match = READY_LINE.search(text)
            if match and "started!" in text:
                self.fork_server_pid = int(match.group(1))
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{text}")
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready within {timeout} s:\n{self.log.read_text()}")


@pytest.fixture(scope="session")
def start_worker(warm_server):
    """start_worker(pool, limit=.., deploy=True) → a ready Worker; all stopped at the end."""
    from municipality import runtime

    started: list[Worker] = []

    def start(pool: str, *, limit: int = 4, deploy: bool = True) -> Worker:
        log = warm_server["home"] / f"worker-{pool}-{len(started)}.log"
        cmd = [
            sys.executable,
            "-m",
            "flows.worker",
            "--pool",
            pool,
            "--limit",
            str(limit),
            "--name",
            f"{pool}-{len(started)}",
        ]
        if not deploy:
            cmd.append("--no-deploy")
        worker = Worker(runtime.start(cmd, env=runtime.child_env(warm_server["env"]), log=log), log)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        runtime.stop(worker.proc)


def records(out_dir: Path) -> list[dict]:
    path = Path(out_dir) / "runs.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def start_run(out_dir: Path, **parameters):
    from prefect.deployments import run_deployment

    return run_deployment(DEPLOYMENT, parameters={"out_dir": str(out_dir), **parameters}, timeout=0)


def wait_state(flow_run_id, predicate, *, timeout: float = 60):
    from prefect import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            run = client.read_flow_run(flow_run_id)
            if predicate(run.state):
                return run
            time.sleep(0.2)
    raise TimeoutError(f"flow run {flow_run_id} still {run.state.name} after {timeout} s")


def wait_record(out_dir: Path, flow_run_id, event: str, *, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for rec in records(out_dir):
            if rec["flow_run_id"] == str(flow_run_id) and rec["event"] == event:
                return rec
        time.sleep(0.1)
    raise TimeoutError(f"no {event!r} record for {flow_run_id} within {timeout} s")
