"""Serve every registered process's flow as a deployment (one runner process for all of them).

Run with the project root as working directory:  python -m flows.serve
`manage.py run_demo` starts it with the demo's Prefect settings; started by hand,
Prefect's home and result storage still default to the project's state folder,
never to the user's home directory. The processes come from the registry.
"""

import importlib
import os
from pathlib import Path


def _prefect_defaults() -> None:
    state = Path(
        os.environ.get("ROBOTFABRIK_STATE_DIR", Path(__file__).resolve().parent.parent / "state")
    )
    os.environ.setdefault("PREFECT_HOME", str(state / "prefect"))
    os.environ.setdefault("PREFECT_LOCAL_STORAGE_PATH", str(state / "prefect" / "storage"))
    os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "true")


def registered_flows() -> list:
    """The Prefect flow of every registered process (imported here, never in the web app)."""
    from flows.django_setup import setup

    setup()
    from approvals.registry import registry

    flows = []
    for spec in registry.all():
        module, _, attribute = spec.flow.partition(":")
        flows.append((spec, getattr(importlib.import_module(module), attribute)))
    return flows


def deployments() -> list:
    from prefect.schedules import Cron

    result = []
    for spec, flow in registered_flows():
        schedules = (
            [Cron(spec.schedule_cron, timezone="Europe/Stockholm")] if spec.schedule_cron else None
        )
        result.append(flow.to_deployment(name=spec.slug, schedules=schedules))
    return result


def main() -> None:
    _prefect_defaults()
    from prefect import serve

    limit = int(os.environ.get("ROBOTFABRIK_RUNNER_LIMIT", "4"))
    serve(*deployments(), limit=limit, print_starting_message=True)


if __name__ == "__main__":
    main()
