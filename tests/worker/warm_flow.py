"""A tiny flow for the warm worker's tests: three tasks, an optional suspend, a last task.

Each run appends one line to `<out_dir>/runs.jsonl` (flow run id, pid, parent pid and
whether the child found the fork server's preload), so the tests can see where and how
often a run was executed. It only writes ids and pids; no personal data.
"""

import json
import os
import time
from pathlib import Path

from prefect import flow, task
from prefect.context import FlowRunContext
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput


class Answer(RunInput):
    approved: bool
    note: str = ""


@task
def step(n: int) -> int:
    return n * 2


@task
def finish(total: int, approved: bool) -> int:
    return total + (1 if approved else 0)


def _record(out_dir: str, event: str, run=None, **extra) -> None:
    from flows.worker import preload

    run = run or FlowRunContext.get().flow_run
    line = {
        "event": event,
        "flow_run_id": str(run.id),
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "preloaded": preload.READY,
        "time": time.time(),
        **extra,
    }
    with open(Path(out_dir) / "runs.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")


def _hook(event: str):
    def hook(flow, flow_run, state) -> None:
        _record(flow_run.parameters["out_dir"], event, run=flow_run, state=state.name)

    hook.__name__ = f"record_{event}"
    return hook


@flow(
    name="warm-demo",
    persist_result=True,
    on_crashed=[_hook("crashed-hook")],
    on_cancellation=[_hook("cancellation-hook")],
)
def warm_demo(out_dir: str, mode: str = "plain", seconds: float = 0.0) -> int:
    """mode: "plain" (run through), "suspend" (wait for an Answer), "sleep" (hold `seconds`)."""
    _record(out_dir, "start")
    total = step(1) + step(2) + step(3)
    approved = True
    if mode == "suspend":
        answer = suspend_flow_run(wait_for_input=Answer, key="answer", timeout=None)
        approved = answer.approved
        _record(out_dir, "resumed", approved=approved)
    if mode == "sleep":
        time.sleep(seconds)
    result = finish(total, approved)
    _record(out_dir, "end", result=result)
    return result
