"""System checks that fail start-up when the gate's supporting pieces are missing."""

from django.conf import settings
from django.core.checks import Error, Warning, register

GUARDIAN_BACKEND = "guardian.backends.ObjectPermissionBackend"


@register()
def guardian_backend_installed(app_configs, **kwargs):
    # Without the object-permission backend every per-case permission check
    # silently answers "no" for humans and the inbox would show nothing.
    if GUARDIAN_BACKEND not in settings.AUTHENTICATION_BACKENDS:
        return [
            Error(
                "django-guardian's ObjectPermissionBackend is not in AUTHENTICATION_BACKENDS.",
                id="approvals.E001",
            )
        ]
    return []


@register()
def process_declarations_consistent(app_configs, **kwargs):
    """Refuse start-up when a process declaration contradicts itself or the project."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    from .registry import DecisionMode, Trigger, registry

    errors = []

    def error(spec, message, code):
        errors.append(Error(f"process {spec.slug!r}: {message}", id=f"approvals.{code}"))

    for spec in registry.all():
        if spec.decision_mode not in DecisionMode.ALL:
            error(spec, f"unknown decision mode {spec.decision_mode!r}", "E010")
        # The rule that never breaks: public authority means a human signs.
        if spec.public_authority and spec.decision_mode != DecisionMode.HUMAN:
            error(spec, "exercises public authority but does not decide by a person", "E011")
        if spec.decision_mode != DecisionMode.AUTOMATIC and not spec.decision_types:
            error(spec, "a person works on its cases but it declares no decision type", "E012")
        for decision_type in spec.decision_types:
            if not decision_type.outcomes:
                error(spec, f"decision type {decision_type.code!r} has no outcomes", "E013")
            # A delegation line names the decision type and the process's unit: both must
            # be writable in the delegation order.
            if len(decision_type.code) > 80 or not decision_type.code.strip():
                error(spec, f"decision type {decision_type.code!r} cannot be delegated", "E014")
        unknown = set(spec.triggers) - set(Trigger.ALL)
        if unknown or not spec.triggers:
            error(spec, f"triggers {sorted(unknown) or 'missing'} are not known", "E015")
        if Trigger.API in spec.triggers and not spec.application_schema:
            error(spec, "starts from the API but declares no application schema", "E016")
        if Trigger.SCHEDULE in spec.triggers and not spec.schedule_cron:
            error(spec, "starts on a schedule but declares no cron expression", "E017")
        for name in spec.templates.names():
            try:
                get_template(name)
            except TemplateDoesNotExist:
                error(spec, f"template {name!r} is missing", "E018")
        if spec.decision_mode != DecisionMode.AUTOMATIC and not spec.templates.material:
            error(spec, "a person works on its cases but it has no material template", "E019")
        for path in (spec.application_schema, spec.supplement_schema, spec.proposal_schema):
            if path:
                try:
                    from .registry import _load

                    _load(path)
                except (ImportError, AttributeError) as exc:
                    error(spec, f"schema {path!r} cannot be loaded: {exc}", "E020")
        # The deployment the runner serves: "module:function" that is a Prefect flow,
        # checked without importing Prefect into the web process (the file must exist).
        module, _, attribute = spec.flow.partition(":")
        if not attribute or not _module_file_defines(module, attribute):
            error(spec, f"flow {spec.flow!r} (its deployment) is missing", "E021")
    return errors


def _module_file_defines(module: str, attribute: str) -> bool:
    """Whether the module's source file exists and defines `attribute` (no import)."""
    import ast
    import importlib.util

    found = importlib.util.find_spec(module)
    if found is None or not found.origin or not found.origin.endswith(".py"):
        return False
    with open(found.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == attribute
        for node in tree.body
    )


@register(deploy=True)
def fault_injection_not_configured(app_configs, **kwargs):
    """The fault tests' kill switches (approvals.faults) have no place in a deployment."""
    import os

    from .faults import FAULT_ENVS

    present = [name for name in FAULT_ENVS if os.environ.get(name)]
    if present:
        return [
            Warning(
                f"{', '.join(present)} set: fault injection is for the fault tests only "
                "(ignored unless the run is local: tests, make demo, DEBUG).",
                id="approvals.W020",
            )
        ]
    return []
