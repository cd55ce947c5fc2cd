"""A real Prefect server and a restartable warm worker for the runner's fault tests.

Smaller than tests/faults/stack.py (the whole stack as processes): here only Prefect and
the flow runner are processes; the outbox and the watchdog run in the test process
(`prefect_gateway.commands_deliver_due()`, `watchdog.watchdog_run()`), so a test decides
when each round happens and can time the recovery. The worker and its fork server (and
every flow-run child) share one process group: `kill(signal)` is a runner killed whole.
"""

import os
import signal
import sys
import time
from pathlib import Path

from municipality import runtime
from tests.conftest import PREFECT_DEPLOYMENT
from tests.worker.conftest import Worker


class RunnerStack:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.port = runtime.free_port()
        self.env = {
            **runtime.prefect_env(home=self.root / "prefect", port=self.port),
            **runtime.database_env(),
            "REGISTER_RETRY_DELAY_SECONDS": "0",
            "PREFECT_WORKER_PREFETCH_SECONDS": "1",
        }
        self.server = None
        self.worker: Worker | None = None
        self.started = 0

    def start_server(self) -> None:
        began = time.monotonic()
        self.server = runtime.start_prefect_server(
            env=self.env, log=self.root / "server.log", ui=False
        )
        runtime.wait_for_http(
            f"http://127.0.0.1:{self.port}/api/health", proc=self.server, timeout=120
        )
        print(f"[runner] Prefect server ready in {time.monotonic() - began:.1f} s")

    def start_worker(self, *, limit: int = 4, **extra_env: str) -> Worker:
        """`python -m flows.worker` on the product's pool, `extra_env` added (fault knobs)."""
        log = self.root / f"worker-{self.started}.log"
        cmd = [sys.executable, "-m", "flows.worker", "--pool", runtime.WARM_POOL]
        cmd += ["--limit", str(limit), "--name", f"runner-{self.started}"]
        self.started += 1
        proc = runtime.start(cmd, env=runtime.child_env({**self.env, **extra_env}), log=log)
        self.worker = Worker(proc, log)
        began = time.monotonic()
        self.worker.wait_ready(timeout=180)
        runtime.wait_for_deployment(PREFECT_DEPLOYMENT, proc=proc, timeout=60)
        print(f"[runner] worker {self.started - 1} ready in {time.monotonic() - began:.1f} s")
        return self.worker

    def kill_worker(self, sig: int = signal.SIGKILL, *, timeout: float = 30) -> None:
        """Signal the worker's whole process group (worker, fork server, flow-run children)."""
        proc = self.worker.proc
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=timeout)
        except Exception:  # noqa: BLE001 - a worker that ignores SIGTERM is killed
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # Children that outlived their parent (SIGTERM: the engine's crash handling) end too.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)

    def stop_worker(self) -> None:
        if self.worker is not None:
            runtime.stop(self.worker.proc)

    def stop(self) -> None:
        self.stop_worker()
        if self.server is not None:
            runtime.stop(self.server)

    def log_tail(self, chars: int = 4000) -> str:
        text = ""
        for path in sorted(self.root.glob("worker-*.log")):
            text += f"--- {path.name}\n" + path.read_text(errors="replace")[-chars:]
        return text


def flow_run(flow_run_id):
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)


def wait_until(predicate, *, timeout: float, what: str, every: float = 0.5, on_fail=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    detail = on_fail() if on_fail else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{detail}")
