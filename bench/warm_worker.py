"""CPU and memory per case: `serve()` (a fresh interpreter per run) vs the warm worker.

    python bench/warm_worker.py [-n 8] [--limit 4] [--modes serve,warm] [--burst]

Starts a real Prefect server (own home, SQLite, as `manage.py run_demo` does), then for
each mode the flow runner and N cases of bench/warm_flow.py one after another: start a
run, wait until it is Suspended, resume it with a typed Decision, wait until Completed.
CPU-seconds are read from /proc for every process of each tree (utime+stime plus the
children it has reaped, so short-lived flow-run children are counted), before and after
the N cases; resident memory (RSS and PSS) of the long-running processes at rest and
after the runs. The reference is the CPU of rendering the case's document in a warm
process. This client process (standing in for Django's web/outbox) is not counted.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "municipality.settings")

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
DEPLOYMENT = "bench-case/bench-case"
POOL = "bench-warm"
IDLE_SECONDS = 5


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, CPU-s of the process and its reaped children, RSS bytes)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return ppid, (utime + stime + cutime + cstime) / CLOCK_TICKS, int(fields[21]) * PAGE


def _tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st:
                parents.setdefault(st[0], []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def cpu_seconds(root: int) -> float:
    return sum(st[1] for pid in _tree(root) if (st := _stat(pid)))


def cpu_by_process(root: int) -> dict[int, tuple[float, float]]:
    """pid → (own CPU-s, CPU-s of its reaped children) for every process of the tree."""
    out = {}
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        out[pid] = ((utime + stime) / CLOCK_TICKS, (cutime + cstime) / CLOCK_TICKS)
    return out


def _pss(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def memory(root: int) -> list[tuple[int, str, float, float | None]]:
    """(pid, command, RSS MiB, PSS MiB) of every process in the tree."""
    rows = []
    for pid in _tree(root):
        st = _stat(pid)
        if not st:
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:60]
        except OSError:
            cmd = "?"
        pss = _pss(pid)
        rows.append((pid, cmd.strip(), st[2] / 2**20, pss / 2**20 if pss else None))
    return rows


def document_cpu() -> float:
    """CPU-s of the case's document rendered in a warm process: the irreducible work."""
    import bench.warm_flow as wf

    wf.render.fn(1, 1000)  # warm: fonts, Pango
    start = time.process_time()
    for i in range(5):
        wf.render.fn(i, 1000 + i)
    return (time.process_time() - start) / 5


def _wait(client, run_id, predicate, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.read_flow_run(run_id)
        if predicate(run.state):
            return run
        time.sleep(0.05)
    raise TimeoutError(f"{run_id}: still {run.state.name}")


def _forget_deployment(client) -> None:
    from prefect.exceptions import ObjectNotFound

    try:
        client.delete_deployment(client.read_deployment_by_name(DEPLOYMENT).id)
    except ObjectNotFound:
        pass


def _burst(client, n: int, mode: str) -> tuple[list[float], list[float]]:
    """All N cases at once: start every run, resume each as soon as it is suspended."""
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run

    started, suspended, completed = {}, {}, {}
    for case in range(n):
        started[run_deployment(DEPLOYMENT, parameters={"case": case}, timeout=0).id] = (
            time.monotonic()
        )
    deadline = time.monotonic() + 60 + 20 * n
    while len(completed) < n and time.monotonic() < deadline:
        for run_id in [r for r in started if r not in completed]:
            state = client.read_flow_run(run_id).state
            if state.is_paused() and run_id not in suspended:
                suspended[run_id] = time.monotonic()
                resume_flow_run(run_id, run_input={"approved": True})
            elif state.is_final():
                if not state.is_completed():
                    raise RuntimeError(f"{mode}: {run_id} ended {state.name}")
                completed[run_id] = time.monotonic()
        time.sleep(0.1)
    if len(completed) < n:
        raise TimeoutError(f"{mode}: {n - len(completed)} of {n} cases unfinished")
    return (
        [suspended[r] - started[r] for r in started],
        [completed[r] - suspended[r] for r in started],
    )


def run_mode(
    mode: str, *, env: dict, server_pid: int, n: int, limit: int, logs: Path, burst: bool
) -> dict:
    from prefect import get_client
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run

    from municipality import runtime

    with get_client(sync_client=True) as client:
        _forget_deployment(client)
    child_env = runtime.child_env({**env, "ROBOTFABRIK_RUNNER_LIMIT": str(limit)})
    if mode == "serve":
        cmd = [sys.executable, "bench/warm_flow.py"]
    else:
        child_env["ROBOTFABRIK_WARM_FLOWS"] = "bench.warm_flow:bench_case"
        cmd = [sys.executable, "-m", "flows.worker", "--pool", POOL, "--limit", str(limit)]
    proc = runtime.start(cmd, env=child_env, log=logs / f"{mode}.log")
    try:
        started = time.monotonic()
        runtime.wait_for_deployment(DEPLOYMENT, proc=proc, timeout=180)
        with get_client(sync_client=True) as client:
            # The worker registers the deployment before its loop starts; serve() after.
            while mode == "warm" and "started!" not in (logs / "warm.log").read_text():
                time.sleep(0.2)
            ready_after = time.monotonic() - started
            time.sleep(3)
            rest = memory(proc.pid)
            # Idle cost: polling, heartbeats and the server's own loops with nothing to do.
            idle0 = cpu_seconds(server_pid), cpu_seconds(proc.pid), time.monotonic()
            time.sleep(IDLE_SECONDS)
            idle1 = cpu_seconds(server_pid), cpu_seconds(proc.pid), time.monotonic()
            idle_wall = idle1[2] - idle0[2]
            server_idle, runner_idle = ((idle1[i] - idle0[i]) / idle_wall for i in (0, 1))
            server0, runner0 = cpu_seconds(server_pid), cpu_seconds(proc.pid)
            by_pid0 = cpu_by_process(proc.pid)
            to_suspended, to_completed = [], []
            wall0 = time.monotonic()
            if burst:
                to_suspended, to_completed = _burst(client, n, mode)
            else:
                for case in range(n):
                    t0 = time.monotonic()
                    run = run_deployment(DEPLOYMENT, parameters={"case": case}, timeout=0)
                    _wait(client, run.id, lambda s: s.is_paused() or s.is_final())
                    t1 = time.monotonic()
                    resume_flow_run(run.id, run_input={"approved": True})
                    done = _wait(client, run.id, lambda s: s.is_final())
                    t2 = time.monotonic()
                    if not done.state.is_completed():
                        raise RuntimeError(f"{mode}: case {case} ended {done.state.name}")
                    to_suspended.append(t1 - t0)
                    to_completed.append(t2 - t1)
            wall = time.monotonic() - wall0
            time.sleep(1)  # let the last child be reaped
            server1, runner1 = cpu_seconds(server_pid), cpu_seconds(proc.pid)
            by_pid1 = cpu_by_process(proc.pid)
            after = memory(proc.pid)
    finally:
        runtime.stop(proc)
    return {
        "mode": mode,
        "ready_s": ready_after,
        "server": (server1 - server0) / n,
        "runner": (runner1 - runner0) / n,
        "wall": wall,
        "server_idle": server_idle,
        "runner_idle": runner_idle,
        "by_process": {
            pid: ((by_pid1[pid][0] - by_pid0.get(pid, (0, 0))[0]) / n,
                  (by_pid1[pid][1] - by_pid0.get(pid, (0, 0))[1]) / n)
            for pid in by_pid1
        },
        "to_suspended": to_suspended,
        "to_completed": to_completed,
        "rest": rest,
        "after": after,
    }


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=8, help="cases per mode")
    parser.add_argument("--limit", type=int, default=4)
    parser.add_argument("--modes", default="serve,warm")
    parser.add_argument(
        "--burst", action="store_true", help="start all N cases at once (throughput)"
    )
    parser.add_argument(
        "--no-api-logs",
        action="store_true",
        help="flow runs do not send their logs to Prefect's API (PREFECT_LOGGING_TO_API_ENABLED)",
    )
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if args.n < 1 or not set(modes) <= {"serve", "warm"}:
        parser.error("-n must be ≥ 1 and --modes a list of serve, warm")

    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    from municipality import runtime

    home = Path(tempfile.mkdtemp(prefix="rf-warm-bench-"))
    port = runtime.free_port()
    env = runtime.prefect_env(home=home, port=port)
    if args.no_api_logs:
        env["PREFECT_LOGGING_TO_API_ENABLED"] = "false"
    env.setdefault(
        "DATABASE_URL",
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/robotfabrik"),
    )
    server = runtime.start_prefect_server(env=env, log=home / "server.log", ui=False)
    results = []
    try:
        runtime.wait_for_http(f"http://127.0.0.1:{port}/api/health", proc=server, timeout=120)
        reference = document_cpu()
        server_rest = memory(server.pid)
        with temporary_settings(
            updates={
                PREFECT_API_URL: env["PREFECT_API_URL"],
                PREFECT_API_AUTH_STRING: env["PREFECT_API_AUTH_STRING"],
            }
        ):
            for mode in modes:
                results.append(
                    run_mode(
                        mode,
                        env=env,
                        server_pid=server.pid,
                        n=args.n,
                        limit=args.limit,
                        logs=home,
                        burst=args.burst,
                    )
                )
        server_after = memory(server.pid)
    finally:
        runtime.stop(server)

    print(
        f"\nwarm worker bench: {args.n} cases per mode (3 tasks + PDF, suspend, resume, 1 task)"
        f"; logs to Prefect's API: {env['PREFECT_LOGGING_TO_API_ENABLED']}"
        f"; {'all at once' if args.burst else 'one after another'}, limit {args.limit}"
    )
    print(f"document alone (WeasyPrint, warm process): {reference * 1000:.0f} ms CPU\n")
    print(f"{'mode':6} {'runner+children':>15} {'server':>8} {'total':>8} {'× doc':>7}"
          f" {'→susp p50/max':>14} {'→done p50/max':>14} {'ready':>6}")
    for r in results:
        total = r["runner"] + r["server"]
        print(
            f"{r['mode']:6} {r['runner']:14.2f}s {r['server']:7.2f}s {total:7.2f}s"
            f" {total / reference:7.0f} {statistics.median(r['to_suspended']):6.2f}/"
            f"{max(r['to_suspended']):<6.2f}s {statistics.median(r['to_completed']):6.2f}/"
            f"{max(r['to_completed']):<6.2f}s {r['ready_s']:5.1f}s"
        )
    print("\nwhere the runner's CPU per case goes (own / reaped children), and idle CPU per second")
    for r in results:
        for pid, (own, kids) in sorted(r["by_process"].items()):
            cmd = next((c for p, c, _, _ in r["after"] if p == pid), "?")
            print(f"  {r['mode']:5} {pid:>7} own {own:5.2f}s children {kids:5.2f}s  {cmd[:50]}")
        wall = r["wall"] / args.n
        print(
            f"  {r['mode']:5} idle: server {r['server_idle'] * 1000:.0f} ms/s, "
            f"runner {r['runner_idle'] * 1000:.0f} ms/s; {wall:.1f} s wall per case; "
            f"server net of idle {r['server'] - r['server_idle'] * wall:.2f} s per case; "
            f"throughput {args.n / r['wall']:.2f} cases/s"
        )
    by_mode = {r["mode"]: r for r in results}
    if {"serve", "warm"} <= by_mode.keys():
        s, w = by_mode["serve"], by_mode["warm"]
        print(
            f"\nCPU per case, serve/warm: runner {s['runner'] / w['runner']:.1f}×, "
            f"server {s['server'] / w['server']:.1f}×, "
            f"total {(s['runner'] + s['server']) / (w['runner'] + w['server']):.1f}×"
        )
    print("\nresident memory of the long-running processes (MiB; PSS shares COW pages)")
    server_rows = {"mode": "server", "rest": server_rest, "after": server_after}
    for r in [server_rows, *results]:
        for label, rows in (("at rest", r["rest"]), ("after", r["after"])):
            for pid, cmd, rss, pss in rows:
                if not rss:  # a child that was exiting when memory was read
                    continue
                pss_text = f"{pss:6.1f}" if pss is not None else "     ?"
                print(f"  {r['mode']:5} {label:9} {pid:>7} RSS {rss:6.1f} PSS {pss_text}  {cmd}")
    print(f"\nlogs: {home}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
