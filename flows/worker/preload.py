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


def _warm_django() -> None:
    """What Django loads lazily on a run's first render and first service call.

    Measured (issue 15): without this every flow-run child imported Django's template
    tag libraries on its first render — every installed app's, among them the roster's,
    which imports OR-Tools and pandas — ≈ 1 CPU-s per child, more than both documents.
    """
    from django.template import engines
    from django.template.loader import get_template
    from django.utils import translation

    import approvals.services  # noqa: F401 (the flows' steps import it lazily)
    from approvals.printing import static_roots
    from approvals.registry import registry

    for engine in engines.all():  # imports every app's template tag libraries
        engine.engine.template_libraries  # noqa: B018
    with translation.override("sv"):  # documents are rendered in Swedish: load its catalog
        for spec in registry.all():
            for name in (spec.templates.material, spec.templates.document):
                if name:
                    get_template(name)
    static_roots()  # the staticfiles finders the print fetcher consults


def _import_flow_steps(entrypoints) -> None:
    """Import each flow package's `steps` module: the tasks import it lazily, once Django
    is set up (the convention of docs/adding-a-robot.md), so every child paid for it."""
    import importlib.util

    for entrypoint in entrypoints:
        package_name = entrypoint.partition(":")[0].rpartition(".")[0]
        if package_name and importlib.util.find_spec(f"{package_name}.steps") is not None:
            importlib.import_module(f"{package_name}.steps")


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
        import prefect.utilities.visualization  # noqa: F401 (imported by every task call)
        from prefect._internal.metrics import RunMetrics  # noqa: F401

        _warm_weasyprint()
        ENTRYPOINTS = configured_entrypoints()
        for entrypoint in ENTRYPOINTS:
            module, _, attribute = entrypoint.partition(":")
            getattr(importlib.import_module(module), attribute)
        _warm_django()
        _import_flow_steps(ENTRYPOINTS)
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
