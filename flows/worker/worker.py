"""The warm worker: a Prefect worker type whose flow runs are forked from a pre-loaded server.

`WarmWorker` is a `prefect.workers.base.BaseWorker` registered as work-pool type
"robotfabrik-warm". Claiming runs (`get_and_submit_flow_runs`), the concurrency limit,
worker heartbeats and pool/queue handling are Prefect's own. `run()` is Prefect's
`ProcessWorker.run` with one change: the starter forks from the fork server
(`flows.worker.forkserver.ForkStarter`) instead of spawning `python -m prefect.engine`.
So the same `FlowRunExecutorContext` reports a non-zero or signal exit as Crashed,
observes Cancelling (websocket, with polling fallback), signals the cancel intent on
the control channel, kills the child and proposes Cancelled.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import anyio
import anyio.abc
from prefect.runner._flow_run_executor import FlowRunExecutionResult, FlowRunExecutorContext
from prefect.runner._process_manager import ProcessHandle
from prefect.workers.base import (
    BaseJobConfiguration,
    BaseVariables,
    BaseWorker,
    BaseWorkerResult,
)

from flows.worker.forkserver import ForkedHookRunner, ForkStarter

if TYPE_CHECKING:
    from uuid import UUID

    from prefect.client.schemas.objects import Flow as APIFlow
    from prefect.client.schemas.objects import FlowRun, WorkPool
    from prefect.client.schemas.responses import DeploymentResponse

WORKER_TYPE = "robotfabrik-warm"


class WarmJobConfiguration(BaseJobConfiguration):
    def prepare_for_flow_run(
        self,
        flow_run: FlowRun,
        deployment: DeploymentResponse | None = None,
        flow: APIFlow | None = None,
        work_pool: WorkPool | None = None,
        worker_name: str | None = None,
        worker_id: UUID | None = None,
    ) -> None:
        super().prepare_for_flow_run(
            flow_run, deployment, flow, work_pool, worker_name, worker_id=worker_id
        )
        self.env = {**os.environ, **self.env}


class WarmVariables(BaseVariables):
    """The pool's job variables: only `env` (and labels) apply to a forked child."""


class WarmWorkerResult(BaseWorkerResult):
    """Exit status and pid of a forked flow-run child."""


class WarmWorker(BaseWorker[WarmJobConfiguration, WarmVariables, WarmWorkerResult]):
    type = WORKER_TYPE
    job_configuration = WarmJobConfiguration
    job_configuration_variables = WarmVariables
    _description = (
        "Robotfabrik: executes flow runs in children forked from a process that has "
        "already imported Django, Prefect's engine, WeasyPrint and the flows."
    )
    _display_name = "Robotfabrik warm"

    async def setup(self) -> None:
        # One execution context for the worker's lifetime, as Prefect's Runner keeps one:
        # one API client, one cancellation observer (websocket) and one control channel
        # for every run, instead of a set per run as ProcessWorker builds. Entered before
        # the base setup so that it closes after the runs task group has drained.
        self._execution = await self._exit_stack.enter_async_context(FlowRunExecutorContext())
        self._hooks = ForkedHookRunner()
        await super().setup()

    async def run(
        self,
        flow_run: FlowRun,
        configuration: WarmJobConfiguration,
        task_status: anyio.abc.TaskStatus[int] | None = None,
    ) -> WarmWorkerResult:
        if task_status is None:
            task_status = anyio.TASK_STATUS_IGNORED
        execution: FlowRunExecutionResult | None = None
        ctx = self._execution
        starter = ForkStarter(env=configuration.env, control_channel=ctx.control_channel)
        executor = ctx.create_executor(
            flow_run, starter, hook_runner=self._hooks, propose_submitting=False
        )

        async def execute(
            *, task_status: anyio.abc.TaskStatus[ProcessHandle] = anyio.TASK_STATUS_IGNORED
        ) -> None:
            nonlocal execution
            execution = await executor.submit(task_status=task_status)

        async with anyio.create_task_group() as group:
            handle = await group.start(execute)
            if handle.pid is None:
                raise RuntimeError("flow run child has no pid")
            task_status.started(handle.pid)
        if execution is None or execution.status_code is None:
            raise RuntimeError("flow run child did not start")
        return WarmWorkerResult(
            status_code=execution.status_code, identifier=str(execution.handle.pid)
        )
