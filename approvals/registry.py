"""The registry of processes: each robot declares itself once, the core reads the declaration.

A process is a package ``flows/<slug_with_underscores>/`` that is also a Django app
(so its templates and management commands are found the usual way) and holds a
module ``process.py`` with ``PROCESS = ProcessSpec(...)``. The registry imports those
modules when Django starts (like the admin's autodiscovery); nothing in the core
names a process. ``approvals.checks`` refuses start-up when a declaration is
inconsistent.

Importing a declaration must stay cheap: the flow itself (Prefect) and the
process's heavy code are named by dotted path and imported only where used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType

from django.utils.functional import Promise


class DecisionMode:
    """How a process's cases end.

    HUMAN: every outcome passes the gate (a signed, verified Decision).
    AUTOMATIC: a service process that completes without a person; it may not create a Decision.
    EXCEPTIONS: automatic, but cases the robot cannot settle go to a person's queue.
    """

    HUMAN = "human"
    AUTOMATIC = "automatic"
    EXCEPTIONS = "exceptions"
    ALL = (HUMAN, AUTOMATIC, EXCEPTIONS)


class Trigger:
    """How a process's cases start."""

    API = "api"  # an applicant's or source system POSTs to /api/v1/applications/
    SCHEDULE = "schedule"  # a Prefect schedule on the deployment
    FILE_IMPORT = "file_import"  # a file dropped or POSTed to /api/v1/imports/
    SELF_SERVICE = "self_service"  # a logged-in person asks on a page
    ALL = (API, SCHEDULE, FILE_IMPORT, SELF_SERVICE)


# Outcomes the core itself gives meaning to; a process may declare others.
APPROVED = "approved"  # as proposed or in the party's favour: the only one without motivation
RETURNED = "returned"  # back for completion: nothing is executed, the case waits for a supplement


@dataclass(frozen=True)
class Outcome:
    """One outcome a signer may choose for a decision type."""

    code: str
    label: str | Promise
    # Goes (partly) against the party: the document carries appeal instructions.
    against_party: bool = False
    # The decision grants a sum (authority_amount is then required).
    grants_amount: bool = False
    # What the signer's choice says on the form ("Approve another amount"); the label if empty.
    action: str | Promise = ""

    @property
    def needs_motivation(self) -> bool:
        return self.code != APPROVED

    @property
    def typed_amount(self) -> bool:
        """The signer types the sum: granted, but otherwise than proposed."""
        return self.grants_amount and self.code != APPROVED


@dataclass(frozen=True)
class DecisionType:
    """A decision type of the delegation order (KL 6 kap. 37 §), with its outcomes."""

    code: str
    label: str | Promise
    outcomes: tuple[Outcome, ...]
    # Whether a sum is decided (delegation lines may then carry an amount limit).
    has_amount: bool = False

    def outcome(self, code: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.code == code), None)


@dataclass(frozen=True)
class Templates:
    """Template names of a process, all under ``templates/<slug>/`` inside its package."""

    material: str | None = None  # the decision material (beslutsunderlag), HTML → PDF
    document: str | None = None  # the letter, certificate or other document the robot writes
    # The request for completion sent when a signer returns the case (default: the core's).
    completion_request: str | None = None
    inbox_summary: str | None = None  # one cell in the inbox row
    case_panel: str | None = None  # the proposal panel on the case page

    def names(self) -> list[str]:
        return [
            n
            for n in (
                self.material,
                self.document,
                self.completion_request,
                self.inbox_summary,
                self.case_panel,
            )
            if n
        ]


@dataclass(frozen=True)
class ProcessSpec:
    """The declaration of one municipal process."""

    slug: str
    name: str | Promise
    unit_code: str
    public_authority: bool
    decision_mode: str
    decision_types: tuple[DecisionType, ...]
    triggers: tuple[str, ...]
    # "module:attribute" of the Prefect flow; imported only by the runner.
    flow: str
    templates: Templates = field(default_factory=Templates)
    due_working_days: int = 5
    minutes_saved_per_case: int = 20
    # After a return for completion, how long the applicant has (working days).
    completion_working_days: int = 10
    description: str | Promise = ""
    # "module:Model" of the pydantic models; None when the trigger takes no body.
    application_schema: str | None = None
    supplement_schema: str | None = None
    proposal_schema: str | None = None
    # Module providing the process hooks the core calls (see ProcessHooks below).
    hooks: str | None = None
    # Cron expression (Europe/Stockholm) when the trigger is SCHEDULE.
    schedule_cron: str | None = None
    # Versioned rule data editable by the process owner, if any: "module:attribute".
    rules: str | None = None

    @property
    def package(self) -> str:
        return "flows." + self.slug.replace("-", "_")

    @property
    def deployment_name(self) -> str:
        """Prefect deployment of this process: "<flow name>/<deployment name>"."""
        return f"{self.slug}/{self.slug}"

    @property
    def needs_human(self) -> bool:
        return self.public_authority or self.decision_mode == DecisionMode.HUMAN

    def decision_type(self, code: str) -> DecisionType | None:
        return next((d for d in self.decision_types if d.code == code), None)

    @property
    def default_decision_type(self) -> DecisionType | None:
        return self.decision_types[0] if self.decision_types else None

    @cached_property
    def application_model(self):
        return _load(self.application_schema) if self.application_schema else None

    @cached_property
    def supplement_model(self):
        return _load(self.supplement_schema) if self.supplement_schema else None

    @cached_property
    def proposal_model(self):
        return _load(self.proposal_schema) if self.proposal_schema else None

    @cached_property
    def hooks_module(self) -> ModuleType | None:
        return importlib.import_module(self.hooks) if self.hooks else None

    def hook(self, name: str):
        """A hook function of the process, or None when it defines none."""
        module = self.hooks_module
        return getattr(module, name, None) if module else None

    def as_dict(self) -> dict:
        """What `manage.py processes --json` and GET /api/v1/processes/ show."""
        return {
            "slug": self.slug,
            "name": str(self.name),
            "description": str(self.description),
            "unit": self.unit_code,
            "public_authority": self.public_authority,
            "decision_mode": self.decision_mode,
            "decision_types": [
                {
                    "code": d.code,
                    "label": str(d.label),
                    "has_amount": d.has_amount,
                    "outcomes": [
                        {"code": o.code, "label": str(o.label), "against_party": o.against_party}
                        for o in d.outcomes
                    ],
                }
                for d in self.decision_types
            ],
            "triggers": list(self.triggers),
            "schedule": self.schedule_cron,
            "due_working_days": self.due_working_days,
            "minutes_saved_per_case": self.minutes_saved_per_case,
            "deployment": self.deployment_name,
        }


# The hooks a process module may define (all optional, keyword-only arguments):
#
# parties(*, payload) -> list[tuple[str, str]]
#     (canonical personnummer, role) of everyone the case is about, for conflict-of-
#     interest checks, search and access logging. Called at intake and after a supplement.
# case_data(*, payload) -> dict
#     The process's own typed data kept on the case (e.g. the period), JSON.
# payload_current(*, case) -> dict
#     The payload with consumed supplements applied (default: replace top-level keys).
# adjustable_lines(*, proposal) -> list[dict]
# apply_adjustments(*, proposal, adjustments) -> dict
#     Line changes at decision time (approvals.adjustments).
# document_context(*, decision) -> dict
#     Extra context for the document template when a decision is executed.
# proposed_outcome(*, proposal) -> str
#     The outcome the robot proposes (default "approved"): "followed the proposal" compares
#     the signed outcome with it.
# case_panel_context(*, case, material) -> dict
#     Context for the process's case-page panel template (available as `panel`).
# exception_actions() -> list[str]
#     The settlement actions a person may choose for an exception (exceptions mode).
# demo_load(*, org) -> None
#     The process's part of the demo organisation (unit, people, delegation order).


def _load(path: str):
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


class Registry:
    """Processes by slug, filled once when Django's apps are ready."""

    def __init__(self) -> None:
        self._processes: dict[str, ProcessSpec] = {}

    def register(self, spec: ProcessSpec) -> ProcessSpec:
        existing = self._processes.get(spec.slug)
        if existing is not None and existing is not spec:
            raise ValueError(f"process {spec.slug!r} is declared twice")
        self._processes[spec.slug] = spec
        return spec

    def unregister(self, slug: str) -> None:
        self._processes.pop(slug, None)

    def get(self, slug: str) -> ProcessSpec | None:
        return self._processes.get(slug)

    def __getitem__(self, slug: str) -> ProcessSpec:
        return self._processes[slug]

    def __contains__(self, slug: object) -> bool:
        return slug in self._processes

    def all(self) -> list[ProcessSpec]:
        return sorted(self._processes.values(), key=lambda p: p.slug)

    def slugs(self) -> list[str]:
        return sorted(self._processes)

    def with_trigger(self, trigger: str) -> list[ProcessSpec]:
        return [p for p in self.all() if trigger in p.triggers]

    def for_decision_type(self, code: str) -> ProcessSpec | None:
        return next((p for p in self.all() if p.decision_type(code) is not None), None)

    def decision_type_choices(self) -> list[tuple[str, str]]:
        return [(d.code, f"{p.name}: {d.label}") for p in self.all() for d in p.decision_types]


registry = Registry()


def autodiscover() -> None:
    """Import ``process`` of every installed app under flows/ and register its PROCESS."""
    from django.apps import apps

    for config in apps.get_app_configs():
        if not config.name.startswith("flows."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.process")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.process":
                raise
            continue
        spec = getattr(module, "PROCESS", None)
        if isinstance(spec, ProcessSpec):
            registry.register(spec)


def process_for(slug: str) -> ProcessSpec:
    """The declaration of a registered process; KeyError for an unknown slug."""
    return registry[slug]
