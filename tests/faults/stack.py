"""A whole Robotfabrik stack as separate OS processes, for fault tests (issue 16).

Every component is a real process in its own process group, started the way the
Procfile starts it, with its log in `<root>/<name>.log`:

    prefect   Prefect server (own home in <root>/prefect, SQLite, no UI, a free port)
    worker    the warm worker, `python -m flows.worker` (flow runs; municipality.runtime)
    outbox    `manage.py deliver_prefect_commands --loop` (flow starts and resumes)
    watchdog  `manage.py robot_watchdog --every 1` (settings.WATCHDOG_* shortened to seconds)
    web       gunicorn, 2 workers, production settings, PREFECT_START_ON_COMMIT=0

All of them use the database of the test process (the pytest-django test database:
use `django_db(transaction=True)` tests so that what a test writes is committed and
seen by the processes). Usage:

    from tests.faults.stack import Stack, WebClient, wait_until

    stack = Stack(tmp_path_factory.mktemp("stack"))
    stack.start()                    # all components, in dependency order, until healthy
    stack.kill("prefect")            # SIGKILL the component's process group (or sig=SIGTERM)
    stack.start_component("prefect") # start it again: same home, port and database
    stack.stop()                     # every component, SIGTERM then SIGKILL

    web = WebClient(stack.web_url)
    status, body = web.submit(application_dict)           # POST /api/v1/applications/
    web.login("anna", PASSWORD); web.sign(case, "approved")  # the caseworker's pages

`stack.prefect_settings()` is a context manager pointing this process's Prefect client
at the stack's server (for reading flow runs). `tests/faults/conftest.py` has the
module-scoped fixture `fault_stack` and helpers to check the end state of cases.
Knobs: `Stack(root, watchdog_silence=45, worker_limit=4, ...)` (seconds; the defaults);
`stack.env` is the environment every component gets (add to it before start()).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from municipality import runtime

# Variables that make Django's settings a local run; the web runs with production settings.
LOCAL_MARKERS = ("PYTEST_VERSION", "ROBOTFABRIK_DEMO", "DJANGO_DEBUG")
DEPLOYMENT = "ekonomiskt-bistand/ekonomiskt-bistand"
COMPONENTS = ("prefect", "worker", "outbox", "watchdog", "web")


def wait_until(predicate, *, timeout: float, what: str, every: float = 0.5):
    """Poll `predicate` until it returns something true; that value. AssertionError after
    `timeout` seconds, naming `what` and the last value seen."""
    deadline = time.monotonic() + timeout
    value = None
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}: {value!r}")
        time.sleep(every)


class Stack:
    def __init__(
        self,
        root: Path,
        *,
        watchdog_silence: float = 45,
        watchdog_backoff: float = 2,
        outbox_max_backoff: float = 2,
        outbox_interval: float = 0.5,
        worker_limit: int = 4,
        web_workers: int = 2,
    ):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.prefect_port = runtime.free_port()
        self.web_port = runtime.free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.outbox_interval = outbox_interval
        self.web_workers = web_workers
        self.procs: dict[str, subprocess.Popen] = {}
        self.tests_served = 0
        self.started_at: dict[str, float] = {}
        self.env = {
            **runtime.prefect_env(home=self.root / "prefect", port=self.prefect_port),
            **runtime.database_env(),
            "REGISTER_RETRY_DELAY_SECONDS": "0",
            "ROBOTFABRIK_WORKER_LIMIT": str(worker_limit),
            "PREFECT_COMMAND_MAX_BACKOFF_SECONDS": str(outbox_max_backoff),
            "WATCHDOG_SILENCE_SECONDS": str(watchdog_silence),
            "WATCHDOG_BACKOFF_SECONDS": str(watchdog_backoff),
            "AUDIT_ANCHOR_FILE": str(self.root / "audit-anchors.log"),
            "ROBOTFABRIK_STATE_DIR": str(self.root / "state"),
        }

    # -- components --------------------------------------------------------------------

    def log(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.log(name)
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def _web_env(self) -> dict[str, str]:
        env = {k: v for k, v in runtime.child_env(self.env).items() if k not in LOCAL_MARKERS}
        env.update(
            {
                "DJANGO_SECRET_KEY": self._secret_key(),
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                "DJANGO_HTTPS": "0",
                "DJANGO_STATIC_MANIFEST": "0",
                "DJANGO_STATIC_ROOT": str(self.root / "static"),
                "PREFECT_START_ON_COMMIT": "0",
                # Tests sign in with passwords hashed by the production hasher.
                "LOGIN_FAILURE_LIMIT": "1000",
            }
        )
        (self.root / "static").mkdir(exist_ok=True)
        return env

    def _secret_key(self) -> str:
        path = self.root / "secret-key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(50))
        return path.read_text()

    def _command(self, name: str) -> tuple[list[str], dict[str, str]]:
        manage = [sys.executable, str(runtime.ROOT / "manage.py")]
        env = runtime.child_env(self.env)
        if name == "outbox":
            return [
                *manage,
                "deliver_prefect_commands",
                "--loop",
                "--interval",
                str(self.outbox_interval),
            ], env
        if name == "watchdog":
            return [*manage, "robot_watchdog", "--every", "1"], env
        if name == "web":
            return [
                sys.executable,
                "-m",
                "gunicorn",
                "municipality.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                str(self.web_workers),
                "--timeout",
                "60",
                "--access-logfile",
                "-",
                "--error-logfile",
                "-",
            ], self._web_env()
        raise ValueError(name)

    def start_component(self, name: str, *, wait: bool = True) -> float:
        """Start one component (again); returns the monotonic time it was started."""
        if name in self.procs and self.procs[name].poll() is None:
            raise RuntimeError(f"{name} is still running")
        with self.log(name).open("a") as log:
            log.write(f"\n===== start {name} at {time.strftime('%H:%M:%S')} =====\n")
        started = time.monotonic()
        if name == "prefect":
            proc = runtime.start_prefect_server(env=self.env, log=self.log(name), ui=False)
        elif name == "worker":
            proc = runtime.start_flow_runner(env=self.env, log=self.log(name))
        else:
            cmd, env = self._command(name)
            proc = runtime.start(cmd, env=env, log=self.log(name))
        self.procs[name] = proc
        self.started_at[name] = started
        if wait:
            self.wait_ready(name)
        return started

    def wait_ready(self, name: str, timeout: float = 120) -> None:
        proc = self.procs[name]
        try:
            if name == "prefect":
                runtime.wait_for_http(f"{self.prefect_url}/health", proc=proc, timeout=timeout)
            elif name == "worker":
                with self.prefect_settings():
                    runtime.wait_for_deployment(DEPLOYMENT, proc=proc, timeout=timeout)
            elif name == "web":
                runtime.wait_for_http(f"{self.web_url}/healthz", proc=proc, timeout=timeout)
            else:
                # The management commands print nothing until there is work; alive is ready.
                time.sleep(0.5)
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}")
        except Exception as exc:
            raise RuntimeError(f"{name} did not come up: {exc}\n{self.log_tail(name)}") from exc

    def start(self) -> Stack:
        """Every component, in order: Prefect, its worker, then the Django processes."""
        try:
            self.start_component("prefect")
            self.start_component("worker", wait=False)
            for name in ("web", "outbox", "watchdog"):
                self.start_component(name, wait=False)
            for name in ("worker", "web", "outbox", "watchdog"):
                self.wait_ready(name)
        except Exception:
            self.stop()
            raise
        return self

    def running(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def kill(self, name: str, sig: int = signal.SIGKILL, timeout: float = 20) -> None:
        """Send `sig` to the component's whole process group and wait for its leader."""
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        if sig == signal.SIGKILL:
            # Children that left the group (none should) are gone with it; make sure the
            # port is free again before a restart binds it.
            time.sleep(0.2)

    def restart(self, name: str, sig: int = signal.SIGKILL) -> float:
        self.kill(name, sig)
        return self.start_component(name)

    def stop(self) -> None:
        for name in reversed(COMPONENTS):
            proc = self.procs.get(name)
            if proc is not None:
                runtime.stop(proc)

    def ensure_running(self) -> None:
        """Start again whatever a test left stopped (the next test begins from a whole stack)."""
        for name in COMPONENTS:
            if not self.running(name):
                self.start_component(name)

    # -- Prefect, seen from this process -------------------------------------------------

    @property
    def prefect_url(self) -> str:
        return self.env["PREFECT_API_URL"]

    @contextlib.contextmanager
    def prefect_settings(self):
        from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

        with temporary_settings(
            updates={
                PREFECT_API_URL: self.prefect_url,
                PREFECT_API_AUTH_STRING: self.env["PREFECT_API_AUTH_STRING"],
            }
        ):
            yield

    def flow_runs(self) -> list:
        """Every flow run of the bistånd deployment on the stack's server."""
        from prefect import get_client
        from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

        runs = []
        with self.prefect_settings(), get_client(sync_client=True) as client:
            offset = 0
            while True:
                page = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(
                        name=DeploymentFilterName(any_=[DEPLOYMENT.split("/")[1]])
                    ),
                    limit=200,
                    offset=offset,
                )
                runs.extend(page)
                if len(page) < 200:
                    return runs
                offset += 200


class WebClient:
    """HTTP to the stack's web app: the intake API with a token, pages with a login."""

    def __init__(self, base: str, *, token: str | None = None, timeout: float = 30):
        from municipality.demo import DEMO_INTEGRATION_TOKEN

        self.base = base
        self.token = token or DEMO_INTEGRATION_TOKEN
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _open(self, request, timeout=None):
        try:
            with self.opener.open(request, timeout=timeout or self.timeout) as response:
                return response.status, response.read(), response.url
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.url

    # -- the intake API ------------------------------------------------------------------

    def submit(self, application: dict, *, timeout: float | None = None) -> tuple[int, dict]:
        """POST one application; (status, JSON body). Connection errors are raised (OSError)."""
        request = urllib.request.Request(
            f"{self.base}/api/v1/applications/",
            data=json.dumps(application).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        status, body, _ = self._open(request, timeout)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {"raw": body[:500].decode(errors="replace")}

    def submit_until_answered(
        self, application: dict, *, deadline: float, timeout: float = 10
    ) -> tuple[int, dict, int]:
        """Retry the same body (same external_ref) until the web answers below 500, as an
        e-service does; (status, body, tries). AssertionError past the monotonic deadline."""
        tries = 0
        while True:
            tries += 1
            try:
                status, body = self.submit(application, timeout=timeout)
                if status < 500:
                    return status, body, tries
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{application['external_ref']}: no answer after {tries}")
            time.sleep(0.3)

    # -- a caseworker's pages ------------------------------------------------------------

    def _csrf(self, html: str) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert match, "no CSRF token on the page"
        return match[1]

    def login(self, username: str, password: str) -> None:
        status, body, _ = self._open(f"{self.base}/accounts/login/")
        assert status == 200, status
        form = urllib.parse.urlencode(
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self._csrf(body.decode()),
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.base}/accounts/login/",
            data=form,
            headers={"Referer": f"{self.base}/accounts/login/"},
        )
        status, _, url = self._open(request)
        assert status == 200 and urllib.parse.urlsplit(url).path == "/", (status, url)

    def sign(
        self,
        *,
        case_id: int,
        material_id: int,
        material_sha256: str,
        request_id: int,
        outcome: str = "approved",
        motivation: str = "",
    ) -> int:
        """What a caseworker does: open the case and its material, then sign; the status of
        the decision POST (302 when stored)."""
        status, body, _ = self._open(f"{self.base}/cases/{case_id}/")
        assert status == 200, status
        token = self._csrf(body.decode())
        status, _, _ = self._open(f"{self.base}/material/{material_id}/")
        assert status == 200, status

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        form = urllib.parse.urlencode(
            {
                "material_sha256": material_sha256,
                "outcome": outcome,
                "motivation": motivation,
                "csrfmiddlewaretoken": token,
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.base}/requests/{request_id}/decide/",
            data=form,
            headers={"Referer": f"{self.base}/cases/{case_id}/"},
        )
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
