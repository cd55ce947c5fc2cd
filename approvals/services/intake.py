"""Intake: a payload becomes a case of a registered process, stored verbatim, its robot queued.

Applicants' systems submit through the API (application_receive); robots that find
their own cases (a monthly scan, a nightly job, a file import) open them with
case_open. Either way the declaration decides the unit, the decision mode and the
parties, and the flow start goes through the outbox (never inside the request).

Back-pressure (issue 16): while the robots are behind, a *new* API application is refused
for now (IntakeSaturated: 503 with Retry-After, nothing stored) instead of making the
applicant wait in a queue of locks; a repeat of one already accepted is still answered
with its case. Robots opening their own cases are not refused: their scans retry anyway
and must not lose a finding.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, OperationalError, connection, transaction
from guardian.shortcuts import assign_perm

from municipality.models import Staff, Unit, unit_group_name

from ..audit import Kind, actor_label_for, audit_append
from ..hashing import canonical_sha256
from ..models import Case, CaseParty, PrefectCommand
from ..prefect_gateway import command_enqueue
from ..registry import ProcessSpec, Trigger, registry
from .errors import (
    APPLICATION_DUPLICATE_DIFFERS,
    APPLICATION_NOT_INTEGRATION,
    APPLICATION_UNKNOWN_PROCESS,
    IntakeSaturated,
    ServiceError,
)

# Cases still with the robots: the start not delivered yet, or started and not yet
# waiting for a person (a partial index keeps this count cheap).
BACKLOG_STATUSES = (Case.Status.RECEIVED, Case.Status.PROCESSING)
# PostgreSQL's "lock_not_available", raised when lock_timeout expires.
LOCK_NOT_AVAILABLE = "55P03"


def intake_backlog() -> int:
    """How many cases are accepted but not yet waiting for a person."""
    return Case.objects.filter(status__in=BACKLOG_STATUSES).count()


def intake_saturation() -> IntakeSaturated | None:
    """Why a new application is refused right now, or None when intake accepts."""
    limit = settings.INTAKE_BACKLOG_LIMIT
    if limit <= 0:
        return None
    backlog = intake_backlog()
    if backlog < limit:
        return None
    return IntakeSaturated(
        f"Intake is saturated: {backlog} cases are waiting for the robots (limit {limit}). "
        "Nothing was stored; send the same application again later.",
        retry_after=settings.INTAKE_RETRY_AFTER_SECONDS,
    )


def _lock_budget_exceeded(exc: OperationalError) -> bool:
    """A lock wait past the budget (PostgreSQL lock_timeout) or SQLite's busy timeout."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate == LOCK_NOT_AVAILABLE or "database is locked" in str(exc)


def _lock_budget(lock_timeout_ms: int | None) -> None:
    """Bound how long this transaction waits for any lock (PostgreSQL; SQLite has its
    busy timeout)."""
    if lock_timeout_ms and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{lock_timeout_ms}ms"])


def parties_of(*, spec: ProcessSpec, payload: dict) -> list[tuple[str, str, str]]:
    """(personnummer, role, name) of everyone the case is about, by the process's hook."""
    hook = spec.hook("parties")
    return [tuple(p) + ("",) * (3 - len(p)) for p in hook(payload=payload)] if hook else []


def parties_store(*, case: Case, parties: list[tuple[str, str, str]]) -> None:
    """Replace the case's parties (after intake, or when a supplement changes them)."""
    case.parties.all().delete()
    seen = set()
    rows = []
    for personnummer, role, name in parties:
        if (personnummer, role) in seen:
            continue
        seen.add((personnummer, role))
        rows.append(CaseParty(case=case, personnummer=personnummer, role=role, name=name[:200]))
    CaseParty.objects.bulk_create(rows)


def case_open(
    *,
    spec: ProcessSpec,
    external_ref: str,
    raw_body: str,
    payload: dict,
    opened_by,
    schema_version: str = "1",
    lock_timeout_ms: int | None = None,
) -> tuple[Case, bool]:
    """Open a case of `spec` and queue its robot; idempotent per (process, external_ref).

    Returns (case, created). The same external_ref with the same content returns the
    existing case; with different content it is refused (nothing is overwritten). With
    `lock_timeout_ms`, a transaction that waits longer for a lock is rolled back whole
    and IntakeSaturated raised (nothing stored, nothing queued).
    """
    digest = canonical_sha256(payload)
    existing = Case.objects.filter(process=spec.slug, external_ref=external_ref).first()
    if existing is not None:
        return _existing_or_conflict(existing, digest), False
    unit = Unit.objects.get(code=spec.unit_code)
    case_data = spec.hook("case_data")
    try:
        with transaction.atomic():
            _lock_budget(lock_timeout_ms)
            case = Case.objects.create(
                process=spec.slug,
                external_ref=external_ref,
                unit=unit,
                decision_mode=spec.decision_mode,
                public_authority=spec.public_authority,
                raw_body=raw_body,
                payload=payload,
                payload_sha256=digest,
                schema_version=schema_version,
                data=case_data(payload=payload) if case_data else {},
                received_by=opened_by,
            )
            parties_store(case=case, parties=parties_of(spec=spec, payload=payload))
            intake_flags = spec.hook("intake_flags")
            flags = intake_flags(case=case) if intake_flags else []
            if flags:
                # E.g. a second application for a period already decided or open: the
                # case is flagged for manual review, never a silent second payment.
                case.data = {**case.data, "intake_flags": flags}
                case.save(update_fields=["data"])
            group, _ = Group.objects.get_or_create(name=unit_group_name(unit))
            assign_perm("approvals.view_case", group, case)
            audit_append(
                kind=Kind.APPLICATION_RECEIVED,
                actor=opened_by,
                actor_label=actor_label_for(opened_by),
                case=case,
                data={
                    "external_ref": case.external_ref,
                    "payload_sha256": digest,
                    "bytes": len(raw_body.encode()),
                    "schema_version": schema_version,
                    **{k: v for k, v in case.data.items() if isinstance(v, str | int)},
                    "intake_flags": [f["code"] for f in case.data.get("intake_flags", [])],
                },
            )
            command_enqueue(kind=PrefectCommand.Kind.START, case=case, payload={"case_id": case.pk})
    except IntegrityError:
        # A concurrent request with the same external_ref won the race.
        existing = Case.objects.get(process=spec.slug, external_ref=external_ref)
        return _existing_or_conflict(existing, digest), False
    except OperationalError as exc:
        if lock_timeout_ms is None or not _lock_budget_exceeded(exc):
            raise
        raise IntakeSaturated(
            f"Intake is saturated: the database did not grant a lock within "
            f"{lock_timeout_ms} ms. Nothing was stored; send the same application again later.",
            retry_after=settings.INTAKE_RETRY_AFTER_SECONDS,
        ) from exc
    return case, True


def application_receive(*, raw_body: str, application: dict, received_by) -> tuple[Case, bool]:
    """Store an application submitted through the API and ask Prefect to start its robot."""
    staff = getattr(received_by, "staff", None)
    # Only integration accounts submit applications through the API.
    if staff is None or staff.kind != Staff.Kind.INTEGRATION or not received_by.is_active:
        raise ServiceError(
            APPLICATION_NOT_INTEGRATION, "Only integration accounts submit applications."
        )
    spec = registry.get(application.get("process", ""))
    # A process that is not registered, or does not start from the API, takes no body.
    if spec is None or Trigger.API not in spec.triggers:
        raise ServiceError(
            APPLICATION_UNKNOWN_PROCESS, f"Unknown process {application.get('process')!r}."
        )
    # A repeat of an application already accepted is answered with its case (or a
    # conflict), saturated or not: a client must never think an accepted one was lost.
    existing = Case.objects.filter(
        process=spec.slug, external_ref=application["external_ref"]
    ).first()
    if existing is not None:
        return _existing_or_conflict(existing, canonical_sha256(application)), False
    saturated = intake_saturation()
    if saturated is not None:
        raise saturated
    return case_open(
        spec=spec,
        external_ref=application["external_ref"],
        raw_body=raw_body,
        payload=application,
        opened_by=received_by,
        lock_timeout_ms=settings.INTAKE_LOCK_TIMEOUT_MS or None,
    )


def _existing_or_conflict(existing: Case, digest: str) -> Case:
    if existing.payload_sha256 != digest:
        raise ServiceError(
            APPLICATION_DUPLICATE_DIFFERS,
            "An application with this external_ref was already received with different content.",
        )
    return existing
