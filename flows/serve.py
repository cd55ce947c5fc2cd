"""Serve every process flow as a deployment (one runner process for all of them).

Run with the project root as working directory:  python -m flows.serve
"""

import os

from prefect import serve

from flows.ekonomiskt_bistand import ekonomiskt_bistand

FLOWS = [ekonomiskt_bistand]


def main() -> None:
    limit = int(os.environ.get("ROBOTFABRIK_RUNNER_LIMIT", "4"))
    deployments = [f.to_deployment(name=f.name) for f in FLOWS]
    serve(*deployments, limit=limit, print_starting_message=True)


if __name__ == "__main__":
    main()
