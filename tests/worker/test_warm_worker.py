"""The warm worker against a real Prefect server: forked children, states, suspend/resume,
crash, cancellation, the concurrency limit, and two workers sharing one pool.

Slow (each worker start imports Django, Prefect and WeasyPrint once; the server takes
seconds to start): marked e2e like the other tests that need a real Prefect server.
"""

import os
import signal
import time

import pytest

from tests.worker.conftest import records, start_run, wait_record, wait_state

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def worker(start_worker):
    return start_worker("warm-main", limit=4)


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


def test_a_run_executes_in_a_forked_preloaded_child_and_completes(worker, tmp_path):
    """The run completes with its four task runs; it ran in a child of the fork server
    (itself a child of the worker), not in the worker, and found the preload done."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    run = start_run(tmp_path)
    done = wait_state(run.id, lambda s: s.is_final())
    assert done.state.is_completed(), done.state
    start = wait_record(tmp_path, run.id, "start")
    assert start["preloaded"] is True
    assert start["pid"] not in (worker.pid, worker.fork_server_pid)
    assert start["ppid"] == worker.fork_server_pid
    assert _parent_of(worker.fork_server_pid) == worker.pid
    with get_client(sync_client=True) as client:
        # Task run states reach the server as events, recorded a moment later.
        deadline = time.monotonic() + 15
        while True:
            task_runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
            )
            states = sorted(t.state.type.value if t.state else "NONE" for t in task_runs)
            if states == ["COMPLETED"] * 4 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert states == ["COMPLETED"] * 4
        assert client.read_flow_run(run.id).state.result(_sync=True) == 13


def test_suspend_then_resume_with_typed_input(worker, tmp_path):
    """The run suspends (its child exits), input that breaks the schema is refused, and
    a valid Answer resumes it in a new child that sees the input and completes."""
    from prefect.flow_runs import resume_flow_run

    run = start_run(tmp_path, mode="suspend")
    paused = wait_state(run.id, lambda s: s.is_paused())
    assert paused.state.name == "Suspended"
    first = wait_record(tmp_path, run.id, "start")
    with pytest.raises(RuntimeError):
        resume_flow_run(run.id, run_input={"approved": "not a boolean"}, _sync=True)
    resume_flow_run(run.id, run_input={"approved": False, "note": "id-only"}, _sync=True)
    done = wait_state(run.id, lambda s: s.is_final())
    assert done.state.is_completed(), done.state
    resumed = wait_record(tmp_path, run.id, "resumed")
    assert resumed["approved"] is False
    assert resumed["pid"] != first["pid"]
    assert resumed["ppid"] == worker.fork_server_pid
    assert done.state.result(_sync=True) == 12


def test_a_child_killed_mid_run_is_reported_crashed(worker, tmp_path):
    """SIGKILL of a running child: the worker reports the run Crashed, runs the flow's
    on_crashed hook in another forked child, and keeps working."""
    run = start_run(tmp_path, mode="sleep", seconds=60)
    start = wait_record(tmp_path, run.id, "start")
    wait_state(run.id, lambda s: s.is_running())
    os.kill(start["pid"], signal.SIGKILL)
    crashed = wait_state(run.id, lambda s: s.is_final())
    assert crashed.state.is_crashed(), crashed.state
    assert "-9" in (crashed.state.message or "") or "SIGKILL" in (crashed.state.message or "")
    hook = wait_record(tmp_path, run.id, "crashed-hook")
    assert hook["ppid"] == worker.fork_server_pid, "on_crashed hooks run in a forked child"
    after = start_run(tmp_path)
    assert wait_state(after.id, lambda s: s.is_final()).state.is_completed()
    assert worker.proc.poll() is None


def test_cancelling_a_running_run_kills_its_child_and_ends_cancelled(worker, tmp_path):
    """Cancelling (as the UI or `prefect flow-run cancel` does) → child gone → Cancelled."""
    from prefect import get_client
    from prefect.states import Cancelling

    run = start_run(tmp_path, mode="sleep", seconds=60)
    start = wait_record(tmp_path, run.id, "start")
    wait_state(run.id, lambda s: s.is_running())
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run.id, Cancelling())
    cancelled = wait_state(run.id, lambda s: s.is_final(), timeout=60)
    assert cancelled.state.is_cancelled(), cancelled.state
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{start['pid']}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{start['pid']}")
    assert not [r for r in records(tmp_path) if r["event"] == "end"]
    hook = wait_record(tmp_path, run.id, "cancellation-hook")
    assert hook["pid"] != start["pid"]


def test_a_killed_fork_server_crashes_its_runs_and_is_replaced(start_worker, tmp_path):
    """SIGKILL of the fork server: its running child is killed and the run reported
    Crashed (no orphan finishes it); the next run starts a new, preloaded fork server."""
    worker = start_worker("warm-server-kill", limit=2)
    run = start_run(tmp_path, mode="sleep", seconds=60)
    start = wait_record(tmp_path, run.id, "start")
    wait_state(run.id, lambda s: s.is_running())
    os.kill(worker.fork_server_pid, signal.SIGKILL)
    crashed = wait_state(run.id, lambda s: s.is_final())
    assert crashed.state.is_crashed(), crashed.state
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{start['pid']}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{start['pid']}")
    after = start_run(tmp_path)
    assert wait_state(after.id, lambda s: s.is_final(), timeout=90).state.is_completed()
    second = wait_record(tmp_path, after.id, "start")
    assert second["preloaded"] is True
    assert second["ppid"] not in (worker.fork_server_pid, worker.pid)
    assert _parent_of(second["ppid"]) == worker.pid


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    current = peak = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def test_the_concurrency_limit_is_respected(start_worker, tmp_path):
    """limit=2 and five 6-second runs: never more than two children at once, all complete.
    (Runs long enough that, on a loaded machine too, the worker's next poll finds the
    first still running: two at once is reached, a third is held back.)"""
    start_worker("warm-limit", limit=2)
    runs = [start_run(tmp_path, mode="sleep", seconds=6) for _ in range(5)]
    for run in runs:
        assert wait_state(run.id, lambda s: s.is_final(), timeout=90).state.is_completed()
    by_run: dict[str, dict] = {}
    for rec in records(tmp_path):
        by_run.setdefault(rec["flow_run_id"], {})[rec["event"]] = rec["time"]
    intervals = [(r["start"], r["end"]) for r in by_run.values()]
    assert len(intervals) == 5
    assert _max_overlap(intervals) == 2


def test_two_workers_on_one_pool_execute_each_run_exactly_once(start_worker, tmp_path):
    """Two workers (limit 1 each) on one pool: eight runs, each executed once, by both."""
    first = start_worker("warm-pair", limit=1)
    second = start_worker("warm-pair", limit=1, deploy=False)
    runs = [start_run(tmp_path, mode="sleep", seconds=0.5) for _ in range(8)]
    for run in runs:
        assert wait_state(run.id, lambda s: s.is_final(), timeout=120).state.is_completed()
    starts = [r for r in records(tmp_path) if r["event"] == "start"]
    assert sorted(r["flow_run_id"] for r in starts) == sorted(str(r.id) for r in runs)
    assert {r["ppid"] for r in starts} == {first.fork_server_pid, second.fork_server_pid}
