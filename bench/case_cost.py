"""What one case of the product costs, end to end, against its two documents (issue 15).

    python bench/case_cost.py [-n 20] [--rate 1] [--burst 30] [--serve-cases 3]
                              [--prefect-db sqlite|postgres] [--limit 4]

A real stack on its own PostgreSQL database (`perf_bench`): Prefect server (its database
on SQLite in the Prefect home, or on PostgreSQL `perf_prefect`), the flow runner (the warm
worker; `serve()` for the old design), gunicorn with two workers, the outbox worker, as
the Procfile runs them. Each case is the product's own: an application POSTed to the
intake API (synthetic person), the bistånd flow compiles the material and suspends, a
signer logged in over HTTP opens the case, the material and its PDF and signs, the flow
resumes and writes the letter.

Phases: (1) warm, a steady `--rate` cases/s for `-n` cases: latencies intake→inbox and
signature→letter, and CPU per case; (2) warm, `--burst` cases at once: sustained
throughput; (3) the old design (`ROBOTFABRIK_EXECUTOR=serve`), `--serve-cases` cases one
after another, CPU per case. CPU-seconds are read from /proc for every process tree
(utime+stime plus reaped children); PostgreSQL's from /proc of the backends serving the
two databases, sampled every 0.2 s (a backend that lives less than that is missed).
The bench process itself (the clients) is not counted, nor its own database session.
The documents' reference: this run's material and letter of a few cases rendered again
in this (warm) process with the product's templates and renderer.
"""

import argparse
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "municipality.settings")
os.environ.setdefault("ROBOTFABRIK_DEMO", "1")

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
PG = "postgres://postgres@127.0.0.1:5432"
BENCH_DB = os.environ.get("BENCH_DB", "perf_bench")
PREFECT_DB = os.environ.get("BENCH_PREFECT_DB", "perf_prefect")
TEMPLATE = json.loads((ROOT / "data/demo_applications/etj-2026-000101.json").read_text())
SIGNER = "anna"
DEPLOYMENT = "ekonomiskt-bistand/ekonomiskt-bistand"
READY_LINE = re.compile(r"fork server (\d+) ready; worker pid (\d+)")


# ---------------------------------------------------------------- /proc accounting
def _fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children_map() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (f := _fields(int(entry))):
            out.setdefault(int(f[1]), []).append(int(entry))
    return out


def tree(root: int, *, exclude: set[int] = frozenset()) -> list[int]:
    kids = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in exclude:
            continue
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def cpu(pid: int, *, reaped: bool = True) -> float:
    f = _fields(pid)
    if not f:
        return 0.0
    ticks = [int(x) for x in f[11:15]]
    return (sum(ticks) if reaped else ticks[0] + ticks[1]) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    f = _fields(pid)
    return int(f[21]) * PAGE / 2**20 if f else 0.0


def cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    return raw.strip().replace(sys.executable, "python")[:70]


class Kinds:
    """Process kinds → how to read their CPU now: {kind: [pid roots]} with tree rules."""

    def __init__(self) -> None:
        self.roots: dict[str, list[int]] = {}
        self.own_only: set[str] = set()
        self.exclude: dict[str, set[int]] = {}

    def add(self, kind: str, pid: int, *, own_only=False, exclude: set[int] = frozenset()):
        self.roots.setdefault(kind, []).append(pid)
        if own_only:
            self.own_only.add(kind)
        self.exclude[kind] = set(exclude)

    def cpu(self) -> dict[str, float]:
        out = {}
        for kind, roots in self.roots.items():
            if kind in self.own_only:
                # The worker's own loop; its children (fork server…) are another kind.
                out[kind] = sum(cpu(p, reaped=False) for p in roots)
            else:
                out[kind] = sum(
                    cpu(p) for r in roots for p in tree(r, exclude=self.exclude[kind])
                )
        return out

    def long_running(self) -> list[tuple[str, int]]:
        rows = []
        for kind, roots in self.roots.items():
            for r in roots:
                pids = [r] if kind in self.own_only else tree(r, exclude=self.exclude[kind])
                rows += [(kind, p) for p in pids]
        return rows


class PgSampler(threading.Thread):
    """CPU of the PostgreSQL backends serving our databases, and their memory."""

    def __init__(self, dbs: list[str], exclude_pids: set[int]):
        super().__init__(daemon=True)
        import psycopg

        self.conn = psycopg.connect(f"{PG}/postgres", autocommit=True)
        self.dbs = dbs
        self.exclude = set(exclude_pids) | {self.conn.info.backend_pid}
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.rss: dict[int, float] = {}
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.sample()

    def sample(self) -> None:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", (self.dbs,)
        ).fetchall()
        with self.lock:
            for (pid,) in rows:
                if pid in self.exclude:
                    continue
                value = cpu(pid, reaped=False)
                if pid not in self.first:
                    # A backend born since the last sample: it started from zero.
                    self.first[pid] = value if not self.last else 0.0
                self.last[pid] = max(value, self.last.get(pid, 0.0))
                self.rss[pid] = rss_mib(pid)

    def run(self) -> None:
        while not self.stop_event.wait(0.2):
            try:
                self.sample()
            except Exception:
                pass

    def total(self) -> float:
        with self.lock:
            return sum(self.last[p] - self.first[p] for p in self.last)

    def backends(self) -> int:
        return len(self.last)


# ---------------------------------------------------------------- HTTP clients
class Signer:
    """A human at the web app: logs in once, then opens and signs cases."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        page = self.get("/accounts/login/")
        self.post(
            "/accounts/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": _csrf(page)},
        )
        if "sessionid" not in {c.name for c in self.jar}:
            raise RuntimeError(f"{username} could not log in")

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.read().decode("utf-8", "replace")

    def post(self, path: str, data: dict) -> int:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Referer": self.base + path}
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                # A redirect (followed) away from the form is success: 302.
                return 302 if response.geturl() != self.base + path else response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def sign(self, case_id: int, material_id: int, sha: str, request_id: int) -> int:
        page = self.get(f"/cases/{case_id}/")
        self.get(f"/material/{material_id}/")
        self.get(f"/material/{material_id}/pdf/")
        data = {
            "csrfmiddlewaretoken": _csrf(page),
            "material_sha256": sha,
            "motivation": "",
            "outcome": "approved",
            # The signer has read the flags on the page (copies of one application
            # for one month are flagged as a second application) and acknowledges them.
            "acknowledge": re.findall(r'name="acknowledge"[^>]*value="([^"]+)"', page),
        }
        return self.post(f"/requests/{request_id}/decide/", data)


def _csrf(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def submit(base: str, token: str, ref: str) -> int:
    body = json.dumps({**TEMPLATE, "external_ref": ref}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/applications/",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["id"]


# ---------------------------------------------------------------- the stack
def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qtAc", sql],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def fresh_database(name: str) -> None:
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(f'CREATE DATABASE "{name}"')


class Stack:
    def __init__(self, args, home: Path):
        from municipality import runtime

        self.runtime = runtime
        self.args = args
        self.home = home
        self.port = runtime.free_port()
        self.web_port = runtime.free_port()
        self.base = f"http://127.0.0.1:{self.web_port}"
        env = runtime.prefect_env(home=home / "prefect", port=self.port)
        if args.prefect_db == "postgres":
            fresh_database(PREFECT_DB)
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = (
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PREFECT_DB}"
            )
        self.env = {
            **env,
            "DATABASE_URL": f"{PG}/{BENCH_DB}",
            "DATABASE_CONN_MAX_AGE": "600",
            "ROBOTFABRIK_DEMO": "1",
            "REGISTER_RETRY_DELAY_SECONDS": "0",
            "ROBOTFABRIK_WORKER_LIMIT": str(args.limit),
            "PREFECT_RUNNER_PROCESS_LIMIT": str(args.limit),
        }
        for item in args.env:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise SystemExit(f"--env takes KEY=VALUE, not {item!r}")
            self.env[key] = value
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, cmd: list[str], extra: dict | None = None):
        env = self.runtime.child_env({**self.env, **(extra or {})})
        self.procs[name] = self.runtime.start(cmd, env=env, log=self.home / f"{name}.log")
        return self.procs[name]

    def up(self) -> None:
        rt = self.runtime
        server = rt.start_prefect_server(
            env=self.env, log=self.home / "prefect-server.log", ui=False
        )
        self.procs["prefect"] = server
        self.start(
            "web",
            [
                sys.executable, "-m", "gunicorn", "municipality.wsgi:application",
                "--bind", f"127.0.0.1:{self.web_port}", "--workers", "2",
                "--timeout", "120",
            ],
            {"PREFECT_START_ON_COMMIT": "0"},
        )
        self.start(
            "outbox",
            [sys.executable, "manage.py", "deliver_prefect_commands", "--loop",
             "--interval", "0.2"],
            {"PREFECT_START_ON_COMMIT": "0"},
        )
        rt.wait_for_http(f"http://127.0.0.1:{self.port}/api/health", proc=server, timeout=180)
        rt.wait_for_http(f"{self.base}/accounts/login/", proc=self.procs["web"], timeout=120)

    def start_runner(self, mode: str) -> None:
        from prefect import get_client
        from prefect.exceptions import ObjectNotFound

        with get_client(sync_client=True) as client:
            try:
                client.delete_deployment(client.read_deployment_by_name(DEPLOYMENT).id)
            except ObjectNotFound:
                pass
        os.environ["ROBOTFABRIK_EXECUTOR"] = mode
        log = self.home / f"runner-{mode}.log"
        env = self.runtime.child_env({**self.env, "ROBOTFABRIK_EXECUTOR": mode})
        self.procs["runner"] = self.runtime.start_flow_runner(env=env, log=log)
        self.runtime.wait_for_deployment(DEPLOYMENT, proc=self.procs["runner"], timeout=300)
        deadline = time.monotonic() + 120
        while mode == "warm" and "started!" not in log.read_text():
            if time.monotonic() > deadline:
                raise TimeoutError("warm worker not started")
            time.sleep(0.2)
        self.runner_log = log
        time.sleep(2)

    def stop_runner(self) -> None:
        self.runtime.stop(self.procs.pop("runner"))

    def kinds(self, mode: str) -> Kinds:
        kinds = Kinds()
        kinds.add("web", self.procs["web"].pid)
        kinds.add("outbox", self.procs["outbox"].pid)
        runner = self.procs["runner"].pid
        if mode == "warm":
            fork_server = int(READY_LINE.search(self.runner_log.read_text()).group(1))
            kinds.add("worker parent", runner, own_only=True)
            kinds.add("worker children", fork_server)
            # multiprocessing's resource tracker and anything else the worker started
            kinds.add("worker other", runner, exclude={runner, fork_server})
        else:
            # serve() reaps each run's interpreter: its CPU lands in the runner's
            # children counters, so the runner is counted with everything it started.
            kinds.add("serve + run children", runner)
        kinds.add("prefect server", self.procs["prefect"].pid)
        return kinds

    def down(self) -> None:
        for proc in reversed(list(self.procs.values())):
            self.runtime.stop(proc)


# ---------------------------------------------------------------- the cases
class Watcher:
    """Polls the product's database for each case's visible milestones (one session)."""

    def __init__(self):
        from django.db import connection

        connection.ensure_connection()
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            self.backend_pid = cur.fetchone()[0]

    def state(self, case_ids: list[int]) -> dict[int, dict]:
        from approvals.models import ApprovalRequest, Case, Document

        out = {
            c["pk"]: {"status": c["status"]}
            for c in Case.objects.filter(pk__in=case_ids).values("pk", "status")
        }
        for r in ApprovalRequest.objects.filter(case_id__in=case_ids, status="open").values(
            "pk", "case_id", "material_id", "material__sha256"
        ):
            out[r["case_id"]]["request"] = (r["pk"], r["material_id"], r["material__sha256"])
        for d in Document.objects.filter(case_id__in=case_ids, kind="decision_letter").values(
            "case_id"
        ):
            out[d["case_id"]]["letter"] = True
        return out


def drive(stack: Stack, signer: Signer, watcher: Watcher, *, n: int, rate: float | None,
          prefix: str, timeout: float) -> dict:
    """n cases, started at `rate` per second (None: all at once); each signed when seen."""
    from municipality.demo import DEMO_INTEGRATION_TOKEN

    t_submit, t_inbox, t_signed, t_letter = {}, {}, {}, {}
    lock = threading.Lock()
    pool = ThreadPoolExecutor(max_workers=8)
    errors: list[str] = []

    def do_submit(i: int) -> None:
        t0 = time.monotonic()
        case_id = submit(stack.base, DEMO_INTEGRATION_TOKEN, f"{prefix}-{i:04d}")
        with lock:
            t_submit[case_id] = t0

    def do_sign(case_id: int, request: tuple) -> None:
        status = signer.sign(case_id, request[1], request[2], request[0])
        with lock:
            t_signed[case_id] = time.monotonic()
            if status != 302:
                errors.append(f"case {case_id}: decide answered {status}")

    wall0 = time.monotonic()
    futures = []
    for i in range(n):
        if rate:
            delay = wall0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        futures.append(pool.submit(do_submit, i))
        if not rate:
            continue
    deadline = time.monotonic() + timeout
    signing: set[int] = set()
    while time.monotonic() < deadline:
        with lock:
            ids = list(t_submit)
        if len(ids) == n and len(t_letter) == n:
            break
        for case_id, st in watcher.state([c for c in ids if c not in t_letter]).items():
            now = time.monotonic()
            if "request" in st and case_id not in t_inbox:
                t_inbox[case_id] = now
            if case_id in t_inbox and case_id not in signing and "request" in st:
                signing.add(case_id)
                pool.submit(do_sign, case_id, st["request"])
            if st.get("letter") and case_id not in t_letter:
                t_letter[case_id] = now
        time.sleep(0.05)
    for f in futures:
        f.result()
    pool.shutdown(wait=True)
    wall = time.monotonic() - wall0
    if len(t_letter) < n:
        raise TimeoutError(f"{n - len(t_letter)} of {n} cases without a letter; {errors[:3]}")
    if errors:
        raise RuntimeError("; ".join(errors[:5]))
    return {
        "wall": wall,
        "case_ids": list(t_submit),
        "inbox": [t_inbox[c] - t_submit[c] for c in t_submit],
        "letter": [t_letter[c] - t_signed[c] for c in t_submit],
        "first_to_last": max(t_letter.values()) - min(t_submit.values()),
    }


def measure(stack: Stack, mode: str, pg: PgSampler, run, *, rss_under_load=True) -> dict:
    kinds = stack.kinds(mode)
    rest = {(k, p): rss_mib(p) for k, p in kinds.long_running()}
    commands = {p: cmdline(p) for _, p in rest}
    before, pg0 = kinds.cpu(), pg.total()
    peak: dict[tuple[str, int], float] = dict(rest)
    stop = threading.Event()

    def sample_rss():
        while not stop.wait(0.5):
            for k, p in kinds.long_running():
                peak[(k, p)] = max(peak.get((k, p), 0.0), rss_mib(p))

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    result = run()
    stop.set()
    sampler.join()
    time.sleep(1.5)  # the last children reaped, the last events ingested
    pg.sample()
    after, pg1 = kinds.cpu(), pg.total()
    n = len(result["case_ids"])
    result["cpu"] = {k: (after[k] - before.get(k, 0.0)) / n for k in after}
    result["cpu"]["postgresql"] = (pg1 - pg0) / n
    result["rest"] = rest
    result["peak"] = peak
    result["mode"] = mode
    result["commands"] = commands
    return result


def document_cpu(case_ids: list[int]) -> tuple[float, float]:
    """(material, letter) CPU-s of rendering this run's documents again, warm."""
    from django.utils import timezone

    from approvals import services
    from approvals.models import Decision, Material
    from approvals.printing import html_to_pdf, render_html
    from approvals.registry import registry

    def letter(decision):
        case = decision.request.case
        spec = registry[case.process]
        context = {
            "application": services.payload_current(case=case),
            "calculation": decision.material.proposal,
            "process": spec,
            "today": timezone.localdate(),
            "case": case,
            "decision": decision,
        }
        return html_to_pdf(render_html(spec.templates.document, context))

    sample = case_ids[:5]
    materials = list(Material.objects.filter(case_id__in=sample))
    decisions = list(
        Decision.objects.select_related("request__case", "material").filter(
            request__case_id__in=sample
        )
    )
    html_to_pdf(materials[0].html)
    letter(decisions[0])  # warm: fonts, templates
    t0 = time.process_time()
    for m in materials:
        html_to_pdf(m.html)
    t1 = time.process_time()
    for d in decisions:
        letter(d)
    t2 = time.process_time()
    return (t1 - t0) / len(materials), (t2 - t1) / len(decisions)


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def prefect_counts(case_ids: list[int]) -> dict:
    """Task runs, flow-run states and events per case, from Prefect's own API."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
        TaskRunFilterFlowRunId,
    )

    from approvals.models import Case

    run_ids = [
        r for r in Case.objects.filter(pk__in=case_ids).values_list("flow_run_id", flat=True) if r
    ]
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(
            task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=run_ids)),
            limit=200,
        )
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=run_ids))
        )
        states = sum(len(client.read_flow_run_states(r.id)) for r in runs)
        logs = client._client.post(
            "/logs/filter", json={"logs": {"flow_run_id": {"any_": [str(r) for r in run_ids]}},
                                  "limit": 200}
        ).json()
        events = client._client.post(
            "/events/filter",
            json={"filter": {"any_resource": {"id_prefix": [
                f"prefect.flow-run.{run_ids[0]}"]}}, "limit": 50},
        ).json()
    n = len(run_ids)
    return {
        "task runs": len(tasks) / n,
        "flow-run states": states / n,
        "logs (first case)": len(logs) / n if n == 1 else len(logs) / n,
        "events naming the first run": events.get("total", len(events.get("events", []))),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=20, help="cases at the steady rate")
    parser.add_argument("--rate", type=float, default=1.0, help="cases per second (steady)")
    parser.add_argument("--burst", type=int, default=30, help="cases at once (throughput)")
    parser.add_argument("--serve-cases", type=int, default=3, help="cases on serve() (0: skip)")
    parser.add_argument("--prefect-db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--limit", type=int, default=4, help="flow runs at once per worker")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for every process of the stack (a lever to measure); repeatable",
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="rf-case-cost-"))
    os.environ["DATABASE_URL"] = f"{PG}/{BENCH_DB}"
    fresh_database(BENCH_DB)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True,
        env={**os.environ, "DATABASE_URL": f"{PG}/{BENCH_DB}"},
    )
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    from municipality.demo import DEMO_PASSWORD, demo_organisation_load

    demo_organisation_load()
    if not get_user_model().objects.get(username=SIGNER).has_usable_password():
        raise RuntimeError(f"demo user {SIGNER} has no password")

    stack = Stack(args, home)
    results = []
    stack.up()
    try:
        with temporary_settings(
            updates={
                PREFECT_API_URL: stack.env["PREFECT_API_URL"],
                PREFECT_API_AUTH_STRING: stack.env["PREFECT_API_AUTH_STRING"],
            }
        ):
            watcher = Watcher()
            pg = PgSampler([BENCH_DB, PREFECT_DB], {watcher.backend_pid})
            pg.start()
            signer = Signer(stack.base, SIGNER, DEMO_PASSWORD)
            stack.start_runner("warm")
            # One case to warm every process (first requests, first fork), not counted.
            drive(stack, signer, watcher, n=1, rate=None, prefix="warmup", timeout=120)
            idle = stack.kinds("warm")
            c0, p0, t0 = idle.cpu(), pg.total(), time.monotonic()
            time.sleep(5)
            c1, p1, t1 = idle.cpu(), pg.total(), time.monotonic()
            idle_rate = {k: (c1[k] - c0[k]) / (t1 - t0) for k in c1}
            idle_rate["postgresql"] = (p1 - p0) / (t1 - t0)
            steady = measure(stack, "warm", pg, lambda: drive(
                stack, signer, watcher, n=args.n, rate=args.rate, prefix="steady",
                timeout=120 + 10 * args.n))
            steady["label"] = f"warm, {args.rate:g} case/s"
            results.append(steady)
            try:
                counts = prefect_counts(steady["case_ids"][:3])
            except Exception as exc:  # diagnostics only
                counts = {"unavailable": f"{type(exc).__name__}: {exc}"}
            if args.burst:
                burst = measure(stack, "warm", pg, lambda: drive(
                    stack, signer, watcher, n=args.burst, rate=None, prefix="burst",
                    timeout=120 + 10 * args.burst))
                burst["label"] = f"warm, {args.burst} at once"
                results.append(burst)
            stack.stop_runner()
            if args.serve_cases:
                stack.start_runner("serve")
                drive(stack, signer, watcher, n=1, rate=None, prefix="serve-warmup",
                      timeout=300)
                old = measure(stack, "serve", pg, lambda: drive(
                    stack, signer, watcher, n=args.serve_cases, rate=0.05, prefix="serve",
                    timeout=120 + 60 * args.serve_cases))
                old["label"] = "serve(), one at a time"
                results.append(old)
                stack.stop_runner()
            pg.stop_event.set()
            material_cpu, letter_cpu = document_cpu(steady["case_ids"])
    finally:
        stack.down()

    docs = material_cpu + letter_cpu
    print(f"\ncase cost bench: product flow (ekonomiskt bistånd), Prefect server on "
          f"{args.prefect_db}, worker limit {args.limit}; logs {home}")
    if args.env:
        print("settings: " + " ".join(args.env))
    print(f"documents alone (warm renderer, this run's cases): material "
          f"{material_cpu * 1000:.0f} ms + letter {letter_cpu * 1000:.0f} ms = "
          f"{docs * 1000:.0f} ms CPU\n")
    kinds = []
    for r in results:
        kinds += [k for k in r["cpu"] if k not in kinds]
    print("CPU-s per case by process kind")
    print(f"  {'':26}" + "".join(f"{k[:15]:>16}" for k in kinds) + f"{'total':>9}{'× docs':>8}")
    for r in results:
        total = sum(r["cpu"].values())
        r["total"] = total
        print(f"  {r['label']:26}" + "".join(f"{r['cpu'].get(k, 0):16.3f}" for k in kinds)
              + f"{total:9.2f}{total / docs:8.1f}")
    print("  idle CPU ms per s (warm):  " + ", ".join(
        f"{k} {v * 1000:.0f}" for k, v in idle_rate.items()))
    by = {r["label"].split(",")[0]: r for r in results}
    if "serve()" in by and "warm" in by:
        print(f"\nold design / warm (CPU per case): {by['serve()']['total'] / steady['total']:.1f}×")
    print("\nlatency (s)                  intake→inbox p50/p95/max   signature→letter p50/p95/max")
    for r in results:
        print(f"  {r['label']:26} {_p(r['inbox'], .5):8.2f} {_p(r['inbox'], .95):6.2f} "
              f"{max(r['inbox']):6.2f}    {_p(r['letter'], .5):8.2f} {_p(r['letter'], .95):6.2f} "
              f"{max(r['letter']):6.2f}")
    for r in results:
        n = len(r["case_ids"])
        print(f"  {r['label']:26} throughput {n / r['first_to_last']:.2f} cases/s "
              f"({n} cases, first intake to last letter {r['first_to_last']:.1f} s)")
    print("\nper case in Prefect (first 3 steady cases): " + ", ".join(
        f"{k} {v}" for k, v in counts.items()))
    print(f"PostgreSQL backends seen: {pg.backends()}")
    print("\nresident memory of the long-running processes (MiB, at rest / peak under load)")
    for r in results:
        for (kind, pid), rest in sorted(r["rest"].items()):
            print(f"  {r['label']:26} {kind:16} {pid:>7} {rest:7.1f} / "
                  f"{r['peak'].get((kind, pid), 0):7.1f}  {r['commands'].get(pid, '')}")
    with pg.lock:
        rows = sorted(pg.rss.items())
    print(f"  postgresql backends: {len(rows)}, RSS max {max(v for _, v in rows):.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
