"""Warm execution of Prefect flow runs: a fork server and a Prefect worker type on top of it.

Start with the project root as working directory:  python -m flows.worker
(the old design, one fresh interpreter per run, stays available as python -m flows.serve).
See docs/scaling.md. Not a Django app: the worker process itself never imports Django.
"""
