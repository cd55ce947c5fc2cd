"""python -m flows.worker [--pool NAME] [--limit N] [--name NAME] [--no-deploy]

Started with the same environment as `python -m flows.serve` (municipality.runtime's
prefect_env plus DATABASE_URL). Steps: start the fork server (imports Django, Prefect's
engine, WeasyPrint and the flows once), probe it in a forked child that also registers
the flows' deployments on the work pool, then run Prefect's worker loop. Several
workers on one pool (on one or many machines) share the runs; each run is claimed once.
"""

import argparse
import asyncio
import os
import sys
from pathlib import Path

_STATE = Path(
    os.environ.get("ROBOTFABRIK_STATE_DIR", Path(__file__).resolve().parents[2] / "state")
)
os.environ.setdefault("PREFECT_HOME", str(_STATE / "prefect"))
os.environ.setdefault("PREFECT_LOCAL_STORAGE_PATH", str(_STATE / "prefect" / "storage"))
os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "true")
# The runner's poll frequency (PREFECT_RUNNER_POLL_FREQUENCY) has no effect on a worker.
os.environ.setdefault(
    "PREFECT_WORKER_QUERY_SECONDS", os.environ.get("PREFECT_RUNNER_POLL_FREQUENCY", "1")
)

DEFAULT_POOL = "robotfabrik-warm"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m flows.worker", description=__doc__)
    parser.add_argument("--pool", default=os.environ.get("ROBOTFABRIK_WORK_POOL", DEFAULT_POOL))
    parser.add_argument(
        "--limit",
        type=int,
        default=int(os.environ.get("ROBOTFABRIK_WORKER_LIMIT", "4")),
        help="flow runs executed at once by this worker",
    )
    parser.add_argument("--name", default=os.environ.get("ROBOTFABRIK_WORKER_NAME"))
    parser.add_argument(
        "--no-deploy", action="store_true", help="do not (re)register the flows' deployments"
    )
    args = parser.parse_args(argv)
    if args.limit < 1:
        parser.error("--limit must be at least 1")
    return args


async def _ensure_pool(name: str) -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    from flows.worker.worker import WORKER_TYPE, WarmWorker

    async with get_client() as client:
        try:
            await client.create_work_pool(
                WorkPoolCreate(
                    name=name,
                    type=WORKER_TYPE,
                    base_job_template=WarmWorker.get_default_base_job_template(),
                )
            )
        except ObjectAlreadyExists:
            pass


def main(argv: list[str] | None = None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    from flows.worker import forkserver
    from flows.worker.worker import WarmWorker

    forkserver.start_fork_server()
    asyncio.run(_ensure_pool(args.pool))
    try:
        forkserver.probe(deploy_to_pool=None if args.no_deploy else args.pool)
    except forkserver.ForkServerNotReady as exc:
        print(f"flows.worker: {exc}", file=sys.stderr)
        return 2
    print(
        f"flows.worker: fork server {forkserver.fork_server_pid()} ready; "
        f"worker pid {os.getpid()}, pool {args.pool!r}, limit {args.limit}",
        flush=True,
    )
    worker = WarmWorker(work_pool_name=args.pool, limit=args.limit, name=args.name)
    try:
        asyncio.run(worker.start())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
