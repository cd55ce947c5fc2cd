"""The production stack on PostgreSQL, on its own databases, for load measurements (issue 16).

    python bench/stack_pg.py [--prefix scale_] [--web-workers 2] [--limit 4] \
        [--bench "--applications 1000 --clients 20 --drain-timeout 1200"] [--keep]

Creates two PostgreSQL databases, `<prefix>bench_django` (Django: migrated, the demo
organisation loaded) and `<prefix>bench_prefect` (the Prefect server's, through asyncpg),
then starts what the Procfile starts for intake: the Prefect server on PostgreSQL, the
warm worker (`python -m flows.worker`), gunicorn with two workers (intake answers, the
outbox starts the robots), and the outbox worker. With --bench it runs
bench/intake_load.py against it with those arguments, then prints what ended where (cases
by status, flow runs by state, "database is locked" lines in every log) and tears
everything down: processes stopped, both databases dropped (unless --keep). Without
--bench it prints the URL and token and waits for Ctrl-C.

PostgreSQL: $PGHOST (127.0.0.1), $PGPORT (5432), $PGUSER (postgres), trust or $PGPASSWORD.
"""

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "municipality.settings")
os.environ.setdefault("ROBOTFABRIK_DEMO", "1")

from municipality import runtime  # noqa: E402  (after the path and settings module)

TOKEN = "rf_demo_etjanst_token_2026"
PG_HOST = os.environ.get("PGHOST", "127.0.0.1")
PG_PORT = os.environ.get("PGPORT", "5432")
PG_USER = os.environ.get("PGUSER", "postgres")
LOCKED = "database is locked"


def psql(sql: str, *, db: str = "postgres") -> str:
    out = subprocess.run(
        ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", db, "-tAc", sql],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if out.returncode != 0:
        raise RuntimeError(f"psql {sql!r}: {out.stderr.strip()}")
    return out.stdout.strip()


def recreate(db: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{db}"')


def drop(db: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def pg_url(db: str, scheme: str = "postgres") -> str:
    password = os.environ.get("PGPASSWORD")
    auth = f"{PG_USER}:{password}" if password else PG_USER
    return f"{scheme}://{auth}@{PG_HOST}:{PG_PORT}/{db}"


class Stack:
    """The processes of the Procfile that intake needs, on PostgreSQL."""

    def __init__(self, *, prefix: str, web_workers: int, limit: int, state: Path):
        self.django_db = f"{prefix}bench_django"
        self.prefect_db = f"{prefix}bench_prefect"
        self.web_workers = web_workers
        self.limit = limit
        self.state = state
        self.logs = state / "logs"
        self.procs: dict[str, subprocess.Popen] = {}
        self.url = ""

    def up(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        recreate(self.django_db)
        recreate(self.prefect_db)
        prefect_port = runtime.free_port()
        web_port = runtime.free_port()
        self.env = {
            **runtime.prefect_env(home=self.state / "prefect", port=prefect_port),
            "PREFECT_API_DATABASE_CONNECTION_URL": pg_url(self.prefect_db, "postgresql+asyncpg"),
            "DATABASE_URL": pg_url(self.django_db),
            "ROBOTFABRIK_STATE_DIR": str(self.state),
            "ROBOTFABRIK_DEMO": "1",
            "PREFECT_START_ON_COMMIT": "0",
        }
        env = runtime.child_env(self.env)
        for step in (["migrate", "--noinput", "-v0"], ["load_demo"]):
            done = subprocess.run(
                [sys.executable, "manage.py", *step],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                raise RuntimeError(f"manage.py {step[0]} failed:\n{done.stderr[-3000:]}")
        self.procs["prefect"] = runtime.start_prefect_server(
            env=self.env, log=self.logs / "prefect.log", ui=False
        )
        runtime.wait_for_http(
            f"http://127.0.0.1:{prefect_port}/api/health", proc=self.procs["prefect"], timeout=180
        )
        self.procs["flows"] = runtime.start(
            [
                sys.executable,
                "-m",
                "flows.worker",
                "--pool",
                runtime.WARM_POOL,
                "--limit",
                str(self.limit),
            ],
            env=env,
            log=self.logs / "flows.log",
        )
        # This process asks the server whether the worker registered the deployments.
        os.environ.update({k: self.env[k] for k in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING")})
        runtime.wait_for_deployment(
            "ekonomiskt-bistand/ekonomiskt-bistand", proc=self.procs["flows"], timeout=300
        )
        self.procs["web"] = runtime.start(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "municipality.wsgi:application",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                str(self.web_workers),
                "--timeout",
                "60",
                "--error-logfile",
                "-",
            ],
            env=env,
            log=self.logs / "web.log",
        )
        self.procs["outbox"] = runtime.start(
            [sys.executable, "manage.py", "deliver_prefect_commands", "--loop", "--interval", "1"],
            env=env,
            log=self.logs / "outbox.log",
        )
        self.url = f"http://127.0.0.1:{web_port}"
        runtime.wait_for_http(f"{self.url}/healthz", proc=self.procs["web"], timeout=120)

    def report(self) -> None:
        print(
            "cases by status:",
            psql(
                "SELECT string_agg(status || ' ' || n, ', ') FROM "
                "(SELECT status, count(*) n FROM approvals_case GROUP BY 1 ORDER BY 1) s",
                db=self.django_db,
            ),
        )
        print(
            "outbox commands by status:",
            psql(
                "SELECT string_agg(status || ' ' || n, ', ') FROM "
                "(SELECT status, count(*) n FROM approvals_prefectcommand GROUP BY 1 ORDER BY 1) s",
                db=self.django_db,
            ),
        )
        print(
            "flow runs by state:",
            psql(
                "SELECT string_agg(coalesce(state_type::text, 'NONE') || ' ' || n, ', ') FROM "
                "(SELECT state_type, count(*) n FROM flow_run GROUP BY 1 ORDER BY 1) s",
                db=self.prefect_db,
            ),
        )
        for log in sorted(self.logs.glob("*.log")):
            text = log.read_text(errors="replace")
            print(
                f"{log.name}: {text.count(LOCKED)} × {LOCKED!r}, "
                f"{text.count('Traceback')} tracebacks"
            )

    def down(self, *, keep: bool) -> None:
        for name in ("web", "outbox", "flows", "prefect"):
            proc = self.procs.get(name)
            if proc is not None:
                runtime.stop(proc, timeout=20)
        if not keep:
            drop(self.django_db)
            drop(self.prefect_db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefix", default="scale_")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=4, help="the warm worker's --limit")
    parser.add_argument("--bench", help="arguments for bench/intake_load.py")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix=f"{args.prefix}stack-"))
    stack = Stack(prefix=args.prefix, web_workers=args.web_workers, limit=args.limit, state=state)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        started = time.monotonic()
        stack.up()
        print(
            f"stack up in {time.monotonic() - started:.0f} s: {stack.url} (token {TOKEN}); "
            f"logs in {stack.logs}; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if args.bench is None:
            print("Ctrl-C stops it.", flush=True)
            while all(p.poll() is None for p in stack.procs.values()):
                time.sleep(1)
            print("a process exited:", {n: p.returncode for n, p in stack.procs.items()})
        else:
            bench = subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "intake_load.py"),
                    "--url",
                    stack.url,
                    "--token",
                    TOKEN,
                    *shlex.split(args.bench),
                ],
                cwd=ROOT,
            )
            print(f"load average at the end {os.getloadavg()}; bench exit {bench.returncode}")
            stack.report()
    except KeyboardInterrupt:
        pass
    finally:
        stack.down(keep=args.keep)
        print(f"stopped; databases {'kept' if args.keep else 'dropped'}; logs in {stack.logs}")


if __name__ == "__main__":
    main()
