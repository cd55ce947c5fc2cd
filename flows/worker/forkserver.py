"""A pre-loaded fork server and a Prefect process starter that forks from it.

Why: `python -m prefect.engine` in a fresh interpreter costs ≈ 5 CPU-s of imports
(Prefect's engine, Django, WeasyPrint, the flow) before any work, for every run and
again for every resumed run. Here one server process imports all of that once
(`flows.worker.preload`) and forks a child per flow run; the child runs exactly the
code `python -m prefect.engine` runs, so states, task runs, suspend/resume, logs and
cancellation behave as with Prefect's own process worker.

The server is Python's `multiprocessing` forkserver: a separate, single-threaded
process started from a clean interpreter, so the worker's event loop, threads and
HTTP connections are never inherited by a child. The forkserver reaps the children
and hands each exit status (negative: killed by that signal) back to the worker.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import signal
import sys
import warnings
from typing import TYPE_CHECKING

import anyio
import anyio.abc
from prefect.runner._process_manager import ProcessHandle
from prefect.settings import get_current_settings
from prefect.utilities.processutils import sanitize_subprocess_env

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun
    from prefect.runner._control_channel import ControlChannel

PRELOAD_MODULE = "flows.worker.preload"
# Exit codes of the start-up probe child.
PROBE_OK = 0
PROBE_NOT_PRELOADED = 3
PROBE_DEPLOY_FAILED = 4
# Diagnostics: cProfile each child into this folder / print each child's CPU at exit.
PROFILE_ENV = "ROBOTFABRIK_WARM_PROFILE"
TRACE_ENV = "ROBOTFABRIK_WARM_TRACE"

# The exit status multiprocessing reports when the fork server's status pipe broke.
FORK_SERVER_LOST = 255

_context = multiprocessing.get_context("forkserver")
logger = logging.getLogger("flows.worker")


class ForkServerNotReady(RuntimeError):
    """The fork server could not import Django, Prefect's engine or a flow."""


def start_fork_server() -> None:
    """Start the fork server now (not on the first run), with the project preloaded."""
    _context.set_forkserver_preload([PRELOAD_MODULE])
    multiprocessing.forkserver.ensure_running()


def fork_server_pid() -> int | None:
    """The fork server's pid (the parent of every flow-run child), for tests and the bench."""
    server = multiprocessing.forkserver._forkserver  # noqa: SLF001 (no public accessor)
    return getattr(server, "_forkserver_pid", None)


def _probe(deploy_to_pool: str | None) -> None:
    """Child: check the preload, and register the flows' deployments on the work pool.

    Runs in a forked child so the worker process itself never imports the flows.
    """
    from flows.worker import preload

    if not preload.READY:
        sys.stderr.write(f"flows.worker: preload failed: {preload.ERROR}\n")
        sys.exit(PROBE_NOT_PRELOADED)
    if deploy_to_pool is None:
        sys.exit(PROBE_OK)
    try:
        from flows.worker.deployments import register_deployments

        for name in register_deployments(preload.ENTRYPOINTS, work_pool_name=deploy_to_pool):
            sys.stdout.write(f"flows.worker: deployment {name} on work pool {deploy_to_pool}\n")
    except Exception as exc:
        sys.stderr.write(f"flows.worker: deployment failed: {type(exc).__name__}: {exc}\n")
        sys.exit(PROBE_DEPLOY_FAILED)
    finally:
        _drain_prefect_services()
    sys.exit(PROBE_OK)


def probe(deploy_to_pool: str | None = None) -> None:
    """Fork one child that checks the preload (and registers deployments); raise if it fails."""
    process = _context.Process(target=_probe, args=(deploy_to_pool,), name="warm-probe")
    process.start()
    process.join()
    if process.exitcode != PROBE_OK:
        raise ForkServerNotReady(
            f"fork server probe exited with {process.exitcode}; see the log above"
        )


def _drain_prefect_services() -> None:
    """Deliver the run's queued logs and events before the child leaves.

    A forked child ends with `os._exit()`, which skips the interpreter shutdown where
    Prefect's background services normally drain.
    """
    try:
        from prefect.logging.handlers import APILogHandler

        APILogHandler.flush()
    except Exception:
        pass
    try:
        from prefect.events.worker import EventsWorker

        EventsWorker.drain_all(timeout=10)
    except Exception:
        pass


def _execute_flow_run(env: dict[str, str]) -> None:
    """Child: run one flow run exactly as `python -m prefect.engine` does, in this process."""
    import runpy

    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["prefect.engine"]
    from prefect.context import refresh_global_settings_context

    # The server's settings were read when it started; this run's environment wins.
    refresh_global_settings_context()
    try:
        from django.db import connections

        # None should be open (the preload closes them); never use a parent's socket.
        connections.close_all()
    except Exception:
        pass
    code: int | str | None = 0
    preloaded = set(sys.modules) if os.environ.get(TRACE_ENV) else set()
    profile_dir = os.environ.get(PROFILE_ENV)
    profiler = None
    if profile_dir:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        with warnings.catch_warnings():
            # runpy warns that prefect.engine is already imported: that is the point.
            warnings.simplefilter("ignore", RuntimeWarning)
            runpy.run_module("prefect.engine", run_name="__main__", alter_sys=False)
    except SystemExit as exc:
        code = exc.code
    finally:
        _drain_prefect_services()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(os.path.join(profile_dir, f"child-{os.getpid()}.prof"))
        if os.environ.get(TRACE_ENV):
            usage = resource.getrusage(resource.RUSAGE_SELF)
            sys.stderr.write(
                f"flows.worker: flow run {env.get('PREFECT__FLOW_RUN_ID')} child {os.getpid()}"
                f" exit {code}: CPU {usage.ru_utime + usage.ru_stime:.3f} s"
                f" (user {usage.ru_utime:.3f}, system {usage.ru_stime:.3f},"
                f" {usage.ru_minflt} minor faults)\n"
            )
            # What the run imported that the preload did not: each costs every child.
            imported = sorted(m for m in set(sys.modules) - preloaded if "." not in m)
            sys.stderr.write(f"flows.worker: child {os.getpid()} imported {imported}\n")
    sys.exit(code)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ForkedProcess:
    """The slice of a process that Prefect's `ProcessHandle` reads: pid and exit status."""

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self._process = process
        self.pid = process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    async def wait(self) -> int | None:
        """Wait for the exit without a thread: the forkserver's status pipe becomes readable."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        fd = self._process.sentinel

        def readable() -> None:
            if not done.done():
                done.set_result(None)

        loop.add_reader(fd, readable)
        try:
            await done
        finally:
            loop.remove_reader(fd)
        self._process.join()
        if self._process.exitcode == FORK_SERVER_LOST and _alive(self.pid):
            # The fork server died, not the child: the status pipe closed with the child
            # still running. It is reported Crashed, so make that true: no orphan may go
            # on to write a letter for a run Prefect already counts as crashed.
            logger.error("fork server lost; killing orphaned flow-run child %s", self.pid)
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self._process.exitcode


class ForkStarter:
    """A `ProcessStarter` (prefect.runner._flow_run_executor) that forks a pre-loaded child.

    Builds the same environment as Prefect's `EngineCommandStarter` (flow run id,
    control channel for cancellation intent, settings), then forks instead of
    spawning `python -m prefect.engine`.
    """

    def __init__(
        self,
        *,
        env: dict[str, str | None],
        control_channel: ControlChannel | None = None,
        deployment_name: str | None = None,
    ) -> None:
        self._env = env
        self._control_channel = control_channel
        self._deployment_name = deployment_name

    def child_env(self, flow_run: FlowRun) -> tuple[dict[str, str], bool]:
        control_env: dict[str, str] = {}
        registered = False
        if self._control_channel is not None:
            try:
                port, token = self._control_channel.register(flow_run.id)
                control_env = {
                    "PREFECT__CONTROL_PORT": str(port),
                    "PREFECT__CONTROL_TOKEN": token,
                }
                registered = True
            except RuntimeError:
                pass  # channel disabled: cancellation falls back to kill-only
        env: dict[str, str | None] = {**os.environ, **self._env}
        env.update(get_current_settings().to_environment_variables(exclude_unset=True))
        env.update(
            {
                "PREFECT__FLOW_RUN_ID": str(flow_run.id),
                "PREFECT__ENABLE_CANCELLATION_AND_CRASHED_HOOKS": "false",
                **control_env,
            }
        )
        if self._deployment_name:
            env["PREFECT__DEPLOYMENT_NAME"] = self._deployment_name
        return sanitize_subprocess_env(env), registered

    async def start(
        self,
        flow_run: FlowRun,
        task_status: anyio.abc.TaskStatus[ProcessHandle] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        env, registered = self.child_env(flow_run)
        try:
            process = _context.Process(
                target=_execute_flow_run, args=(env,), name=f"flow-run-{flow_run.id}"
            )
            process.start()
        except BaseException:
            if registered and self._control_channel is not None:
                self._control_channel.unregister(flow_run.id)
            raise
        forked = ForkedProcess(process)
        task_status.started(ProcessHandle(forked))
        await forked.wait()


def _run_hooks_in_child(env: dict[str, str], kind: str, flow_run, state) -> None:
    """Child: run a flow's on_crashed / on_cancellation hooks with the preloaded flow."""
    os.environ.clear()
    os.environ.update(env)
    from prefect.context import refresh_global_settings_context

    refresh_global_settings_context()

    async def hooks() -> None:
        from prefect.flows import load_flow_from_flow_run
        from prefect.runner._hook_runner import HookRunner

        # As ProcessWorker resolves it (the client is injected); a cached import here.
        runner = HookRunner(resolve_flow=load_flow_from_flow_run)
        if kind == "crashed":
            await runner.run_crashed_hooks(flow_run, state)
        else:
            await runner.run_cancellation_hooks(flow_run, state)

    try:
        asyncio.run(hooks())
    finally:
        _drain_prefect_services()


class ForkedHookRunner:
    """A `FlowRunHookRunner` that runs the flow's crash/cancel hooks in a forked child.

    Prefect's own HookRunner loads the flow into the worker process to run them; here
    the worker never imports the flows (nor Django), and a failing hook cannot hurt it.
    """

    def __init__(self, *, env: dict[str, str | None] | None = None) -> None:
        self._env = env or {}

    async def _run(self, kind: str, flow_run: FlowRun, state) -> None:
        env: dict[str, str | None] = {**os.environ, **self._env}
        env.update(get_current_settings().to_environment_variables(exclude_unset=True))
        process = _context.Process(
            target=_run_hooks_in_child,
            args=(sanitize_subprocess_env(env), kind, flow_run, state),
            name=f"hooks-{flow_run.id}",
        )
        process.start()
        await ForkedProcess(process).wait()

    async def run_cancellation_hooks(self, flow_run: FlowRun, state) -> None:
        if state.is_cancelling():
            await self._run("cancellation", flow_run, state)

    async def run_crashed_hooks(self, flow_run: FlowRun, state) -> None:
        if state.is_crashed():
            await self._run("crashed", flow_run, state)
