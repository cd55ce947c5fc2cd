"""Starting the moving parts: Prefect server, flow runner, outbox worker, web app.

Used by `manage.py run_demo` and by the end-to-end tests, so both run the system
the same way. Prefect's home, database and result storage live in a state folder
of the project, never in the user's home directory.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefect_auth_string(home: Path) -> str:
    """The Prefect API credential, made once per Prefect home and kept there (mode 0600).

    Prefect OSS has no users: whoever holds this string can resume any run. Only the
    processes this project starts get it; the resume input is still checked by Django.
    """
    path = home / "api-auth"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(f"robotfabrik:{secrets.token_urlsafe(24)}")
        path.chmod(0o600)
    return path.read_text().strip()


def prefect_env(*, home: Path, port: int) -> dict[str, str]:
    """Environment for every process that talks to (or is) the Prefect server."""
    home.mkdir(parents=True, exist_ok=True)
    auth = prefect_auth_string(home)
    return {
        "PREFECT_SERVER_API_AUTH_STRING": auth,
        "PREFECT_API_AUTH_STRING": auth,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_LOCAL_STORAGE_PATH": str(home / "storage"),
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_TELEMETRY_ENABLED": "false",
        "PREFECT_LOGGING_TO_API_ENABLED": "true",
        "PREFECT_SERVER_EVENTS_RETENTION_PERIOD": "7d",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra}
    env.setdefault("DJANGO_SETTINGS_MODULE", "municipality.settings")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start(cmd: list[str], *, env: dict[str, str], log: Path | None = None) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (kept open for the child)
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def start_prefect_server(
    *, env: dict[str, str], log: Path | None = None, ui: bool = True
) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        env["PREFECT_SERVER_API_PORT"],
    ]
    if not ui:
        cmd.append("--no-ui")
    return start(cmd, env=child_env(env), log=log)


# How flow runs are executed: "warm" (default) is the project's worker type, which runs
# each flow run in a child forked from a process that already imported Django, Prefect's
# engine and WeasyPrint (flows/worker, docs/scaling.md); "serve" is Prefect's serve(),
# one fresh interpreter per run (the baseline the benchmarks compare against).
EXECUTORS = ("warm", "serve")
WARM_POOL = "robotfabrik-warm"


def flow_executor() -> str:
    executor = os.environ.get("ROBOTFABRIK_EXECUTOR", "warm")
    if executor not in EXECUTORS:
        raise ValueError(f"ROBOTFABRIK_EXECUTOR must be one of {EXECUTORS}, not {executor!r}")
    return executor


def start_flow_runner(*, env: dict[str, str], log: Path | None = None) -> subprocess.Popen:
    """The process that executes flow runs: the warm worker, or Prefect's serve()."""
    if flow_executor() == "serve":
        return start([sys.executable, "-m", "flows.serve"], env=child_env(env), log=log)
    limit = os.environ.get("ROBOTFABRIK_WORKER_LIMIT", "4")
    return start(
        [sys.executable, "-m", "flows.worker", "--pool", WARM_POOL, "--limit", limit],
        env=child_env(env),
        log=log,
    )


def wait_for_http(url: str, *, timeout: float = 90, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"{proc.args[:4]} exited with {proc.returncode} before {url} answered"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def wait_for_deployment(
    name: str, *, timeout: float = 90, proc: subprocess.Popen | None = None
) -> None:
    from prefect import get_client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"flow runner exited with {proc.returncode}")
        try:
            with get_client(sync_client=True) as client:
                deployment = client.read_deployment_by_name(name)
            # With the warm worker the deployment must be the one on its pool (a Prefect
            # database kept from a serve() run holds one by the same name).
            if flow_executor() == "serve" or deployment.work_pool_name == WARM_POOL:
                return
        except Exception:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"deployment {name} not registered within {timeout} s")


def stop(proc: subprocess.Popen, *, timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


def database_env() -> dict[str, str]:
    """DATABASE_URL (and DATABASE_ROLE) for child processes: the database this process is
    using, as the role it acts as."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return {"DATABASE_URL": f"sqlite:///{db['NAME']}"}
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {"DATABASE_URL": f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"}
    options = (db.get("OPTIONS") or {}).get("options", "")
    if options.startswith("-c role="):
        env["DATABASE_ROLE"] = options.removeprefix("-c role=")
    return env
