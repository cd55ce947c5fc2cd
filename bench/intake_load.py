"""Intake under load: N applications from C clients against a running stack (issue 16).

    python bench/intake_load.py --url http://127.0.0.1:8000 --token rf_demo_etjanst_token_2026 \
        --applications 1000 --clients 20 [--drain-timeout 1800]

Sends copies of the demo application with unique references (synthetic people only),
prints the status counts, intake latency p50/p95/p99, server errors, and how long until
every accepted case waits for a person (polled through the status API). Bounded: every
request has a timeout and the drain wait stops after --drain-timeout seconds.
"""

import argparse
import json
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = json.loads((ROOT / "data/demo_applications/etj-2026-000103.json").read_text())
WAITING = {"awaiting_decision", "awaiting_person", "decided", "returned", "completed"}


def _post(url: str, token: str, body: bytes, timeout: float):
    request = urllib.request.Request(
        f"{url}/api/v1/applications/",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, payload = response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        # A refusal for now (back-pressure) names when to come back; count it apart.
        retry = exc.code in (429, 503) and exc.headers.get("Retry-After")
        status, payload = (f"{exc.code}+Retry-After" if retry else exc.code), None
    except OSError:
        status, payload = "timeout", None
    return status, time.perf_counter() - started, payload


def _status(url: str, token: str, case_id: int) -> str:
    request = urllib.request.Request(
        f"{url}/api/v1/applications/{case_id}/", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["status"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", default="rf_demo_etjanst_token_2026")
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--drain-timeout", type=float, default=1800)
    parser.add_argument("--prefix", default=f"load-{int(time.time())}")
    args = parser.parse_args()

    bodies = []
    for i in range(args.applications):
        application = {**TEMPLATE, "external_ref": f"{args.prefix}-{i:05d}"}
        bodies.append(json.dumps(application).encode())
    results = []
    lock = threading.Lock()

    def send(body):
        result = _post(args.url, args.token, body, args.timeout)
        with lock:
            results.append(result)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        list(pool.map(send, bodies))
    sent_in = time.perf_counter() - started
    counts = Counter(r[0] for r in results)
    latencies = sorted(r[1] for r in results)
    accepted = [r[2]["id"] for r in results if r[2] and r[0] in (200, 201)]

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    print(f"sent {len(results)} applications from {args.clients} clients in {sent_in:.1f} s")
    print(f"status counts: {dict(counts)}")
    print(
        f"intake latency ms: p50 {pct(50):.0f}, p95 {pct(95):.0f}, p99 {pct(99):.0f}, "
        f"max {latencies[-1] * 1000:.0f}, mean {statistics.mean(latencies) * 1000:.0f}"
    )
    print(
        f"server errors (5xx without Retry-After): "
        f"{sum(v for k, v in counts.items() if isinstance(k, int) and k >= 500)}"
    )
    for status in sorted({r[0] for r in results}, key=str):
        these = sorted(r[1] for r in results if r[0] == status)
        print(
            f"  latency ms of {status}: p50 {these[len(these) // 2] * 1000:.0f}, "
            f"p99 {these[min(len(these) - 1, int(0.99 * len(these)))] * 1000:.0f}"
        )

    pending = set(accepted)
    deadline = time.monotonic() + args.drain_timeout
    next_progress = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        for case_id in list(pending):
            if _status(args.url, args.token, case_id) in WAITING:
                pending.discard(case_id)
        if time.monotonic() >= next_progress:
            # Progress for a drain that may not finish: how many reached a person, how fast.
            done, elapsed = len(accepted) - len(pending), time.perf_counter() - started
            print(
                f"  after {elapsed:.0f} s: {done} waiting for a person ({done / elapsed:.2f}/s)",
                flush=True,
            )
            next_progress += 60
        if pending:
            time.sleep(5)
    drained = time.perf_counter() - started
    print(
        f"accepted {len(accepted)}; waiting for a person after {drained:.0f} s: "
        f"{len(accepted) - len(pending)}; still with the robot: {len(pending)}"
    )


if __name__ == "__main__":
    main()
