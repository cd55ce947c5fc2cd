"""What the fork server imports once, so that no flow run pays for it again.

Imported by the fork server process only (``multiprocessing`` forkserver preload), never
by the worker's own event-loop process: the server is single-threaded and has no event
loop, no HTTP client and no database connection open when it forks, which is what makes
``fork()`` safe here. Every flow-run child inherits these modules copy-on-write.
"""

import gc
import importlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "municipality.settings")

# Environment variable: comma-separated "module:attribute" flow entrypoints to serve.
FLOWS_ENV = "ROBOTFABRIK_WARM_FLOWS"
# Used while no process declares its flow in the registry (approvals/registry.py).
LEGACY_ENTRYPOINTS = ("flows.ekonomiskt_bistand:ekonomiskt_bistand",)

READY = False
ENTRYPOINTS: tuple[str, ...] = ()
ERROR: str | None = None


def configured_entrypoints() -> tuple[str, ...]:
    """The flows this worker executes: the environment, else the registry, else the legacy one."""
    raw = os.environ.get(FLOWS_ENV, "").strip()
    if raw:
        return tuple(e.strip() for e in raw.split(",") if e.strip())
    try:
        from approvals.registry import autodiscover, registry

        autodiscover()  # idempotent; the core may already have run it in AppConfig.ready
        declared = tuple(spec.flow for spec in registry.all() if spec.flow)
    except Exception:  # registry not ready (phase 1): fall back below
        declared = ()
    return declared or LEGACY_ENTRYPOINTS


def _warm_weasyprint() -> None:
    """One tiny render: loads fontconfig's cache and Pango once, in the parent."""
    import weasyprint

    weasyprint.HTML(string="<p style='font-family: DejaVu Sans'>Robotfabrik</p>").write_pdf()


def _preload() -> None:
    global READY, ENTRYPOINTS, ERROR
    try:
        from flows.django_setup import setup

        setup()
        # What `python -m prefect.engine` imports before and while it runs a flow.
        import prefect.engine  # noqa: F401
        import prefect.flow_engine  # noqa: F401
        import prefect.flow_runs  # noqa: F401
        import prefect.input.run_input  # noqa: F401
        import prefect.task_engine  # noqa: F401
        from prefect._internal.metrics import RunMetrics  # noqa: F401

        _warm_weasyprint()
        ENTRYPOINTS = configured_entrypoints()
        for entrypoint in ENTRYPOINTS:
            module, _, attribute = entrypoint.partition(":")
            getattr(importlib.import_module(module), attribute)
        from django.db import connections

        # Nothing may be connected when the server forks: a child would share the socket.
        connections.close_all()
        # Keep the preloaded objects out of the children's garbage collections: a
        # collection that walks them writes to every page and undoes copy-on-write.
        gc.collect()
        gc.freeze()
        READY = True
    except Exception as exc:  # reported by the worker's start-up probe, not a traceback
        ERROR = f"{type(exc).__name__}: {exc}"


_preload()
