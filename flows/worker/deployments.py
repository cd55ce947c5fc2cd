"""Deployments on a work pool, loaded by module path so a warm child never re-reads a file.

`serve()` binds a deployment to its own runner. A worker needs the deployment on a work
pool, with an entrypoint the engine can load: a dotted module path
("flows.ekonomiskt_bistand.ekonomiskt_bistand") is imported with `importlib`, which
finds the module the fork server already imported; a file path ("flows/x.py:flow")
would make Prefect copy the code from "storage" and execute the file again.
"""

from __future__ import annotations

import importlib

ERROR_ENTRYPOINT = "flow entrypoint must be 'module:attribute', got {!r}"


def module_path(entrypoint: str) -> str:
    """'module:attribute' (the registry's `ProcessSpec.flow`) → Prefect's 'module.attribute'."""
    module, sep, attribute = entrypoint.partition(":")
    if not sep or not module or not attribute or "." in attribute or "/" in module:
        raise ValueError(ERROR_ENTRYPOINT.format(entrypoint))
    return f"{module}.{attribute}"


def load_flow(entrypoint: str):
    module, _, attribute = entrypoint.partition(":")
    module_path(entrypoint)  # validates
    return getattr(importlib.import_module(module), attribute)


def register_deployments(entrypoints, *, work_pool_name: str) -> list[str]:
    """Create or update one deployment per flow on the work pool; returns "flow/deployment".

    The deployment is named after the flow, as `flows.serve` names it, so Django's
    `run_deployment("<flow>/<flow>")` reaches either design unchanged.
    """
    from prefect.deployments.runner import EntrypointType

    names = []
    for entrypoint in entrypoints:
        flow = load_flow(entrypoint)
        deployment = flow.to_deployment(name=flow.name, entrypoint_type=EntrypointType.MODULE_PATH)
        deployment.entrypoint = module_path(entrypoint)
        deployment.apply(work_pool_name=work_pool_name)
        names.append(f"{flow.name}/{flow.name}")
    return names
