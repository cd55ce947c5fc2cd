"""Serve every process flow as a deployment (one runner process for all of them).

Run with the project root as working directory:  python -m flows.serve
`manage.py run_demo` starts it with the demo's Prefect settings; started by hand,
Prefect's home and result storage still default to the project's state folder,
never to the user's home directory.
"""

import os
from pathlib import Path

_STATE = Path(
    os.environ.get("ROBOTFABRIK_STATE_DIR", Path(__file__).resolve().parent.parent / "state")
)
os.environ.setdefault("PREFECT_HOME", str(_STATE / "prefect"))
os.environ.setdefault("PREFECT_LOCAL_STORAGE_PATH", str(_STATE / "prefect" / "storage"))
os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "true")

from prefect import serve  # noqa: E402  (after the environment above)

from flows.ekonomiskt_bistand import ekonomiskt_bistand  # noqa: E402

FLOWS = [ekonomiskt_bistand]


def main() -> None:
    limit = int(os.environ.get("ROBOTFABRIK_RUNNER_LIMIT", "4"))
    deployments = [f.to_deployment(name=f.name) for f in FLOWS]
    serve(*deployments, limit=limit, print_starting_message=True)


if __name__ == "__main__":
    main()
