"""Completion (komplettering): after a return, the applicant's system sends what was missing,
and the robot recompiles the material with it."""

import copy

from django.db import transaction
from django.utils import timezone

from municipality.models import Staff

from ..access import may_view_case
from ..audit import Kind, actor_label_for, audit_append
from ..hashing import canonical_sha256
from ..models import AuditEvent, Case, PrefectCommand, Supplement
from ..prefect_gateway import command_enqueue
from ..registry import registry
from .errors import (
    APPLICATION_NOT_INTEGRATION,
    SUPPLEMENT_NOT_EXPECTED,
    SUPPLEMENT_UNKNOWN,
    ServiceError,
)
from .intake import parties_of, parties_store


def payload_current(*, case: Case) -> dict:
    """The payload as received, with every consumed supplement applied in order.

    The process's hook `merge_supplement(*, payload, supplement)` decides how a
    supplement changes the payload; by default it replaces the top-level parts it
    names. The original stays untouched in case.payload.
    """
    spec = registry.get(case.process)
    merge = spec.hook("merge_supplement") if spec else None
    current = copy.deepcopy(case.payload)
    for supplement in case.supplements.filter(consumed_at__isnull=False).order_by(
        "received_at", "pk"
    ):
        if merge is not None:
            current = merge(payload=current, supplement=supplement.data)
        else:
            current.update(supplement.data)
    return current


def supplement_receive(*, case_id: int, raw_body: str, data: dict, received_by) -> Supplement:
    """Store the applicant's supplement and resume the waiting flow run (ids only)."""
    staff = getattr(received_by, "staff", None)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        # The applicant's system sends supplements; a person of the case's unit may enter
        # one on the applicant's behalf (and then prepares the next material: the gate
        # will not let them also decide on it).
        if (
            staff is None
            or not received_by.is_active
            or not (
                staff.kind == Staff.Kind.INTEGRATION
                or (staff.is_human and may_view_case(user=received_by, case=case))
            )
        ):
            raise ServiceError(
                APPLICATION_NOT_INTEGRATION,
                "Only the applicant's system or staff of the case's unit send supplements.",
            )
        # Only a case returned for completion is waiting for a supplement.
        if (
            case.status != Case.Status.RETURNED
            or case.supplements.filter(consumed_at__isnull=True).exists()
        ):
            raise ServiceError(
                SUPPLEMENT_NOT_EXPECTED, "This case is not waiting for a supplement."
            )
        supplement = Supplement.objects.create(
            case=case,
            raw_body=raw_body,
            data=data,
            sha256=canonical_sha256(data),
            received_by=received_by,
        )
        audit_append(
            kind=Kind.SUPPLEMENT_RECEIVED,
            actor=received_by,
            actor_label=actor_label_for(received_by),
            case=case,
            data={"supplement": supplement.pk, "sha256": supplement.sha256, "parts": sorted(data)},
        )
        command_enqueue(
            kind=PrefectCommand.Kind.RESUME,
            case=case,
            payload={"run_input": {"case_id": case.pk, "supplement_id": supplement.pk}},
        )
    return supplement


def supplement_verify(*, case_id: int, supplement_id: int) -> int:
    """Check a resume claim about a supplement against the database and mark it used."""
    supplement = Supplement.objects.filter(pk=supplement_id, case_id=case_id).first()
    if supplement is None:
        raise ServiceError(SUPPLEMENT_UNKNOWN, "No such supplement for this case.")
    with transaction.atomic():
        if Supplement.objects.filter(pk=supplement.pk, consumed_at__isnull=True).update(
            consumed_at=timezone.now()
        ):
            # A supplement may change the household: registers, conflict-of-interest
            # checks and the next material follow the household as now declared.
            case = supplement.case
            current = payload_current(case=case)
            parties = parties_of(spec=registry[case.process], payload=current)
            parties_store(case=case, parties=parties)
            Case.objects.filter(pk=case_id).update(status=Case.Status.PROCESSING)
            audit_append(
                kind=Kind.ROBOT_STEP,
                actor_label="robot:gate",
                case=case,
                data={
                    "step": "supplement-accepted",
                    "supplement": supplement.pk,
                    "parties": len(parties),
                },
            )
    return supplement.pk


def material_preparer(*, case: Case):
    """The person who entered the supplement the next material is built on, if a person did.

    Whoever prepared material may not decide on it (rules.separation_of_duties).
    """
    latest = case.supplements.filter(consumed_at__isnull=False).order_by("-received_at", "-pk")
    supplement = latest.select_related("received_by__staff").first()
    if supplement is None:
        return None
    staff = getattr(supplement.received_by, "staff", None)
    return supplement.received_by if staff is not None and staff.is_human else None


def completion_deadlines_check(*, today=None) -> int:
    """Cases whose request for completion passed its deadline go back to a person.

    The waiting flow run is resumed with a claim "deadline passed" (ids only); after
    checking it against the database the robot compiles the material again, marked so,
    and a caseworker decides on what there is. Never decided by the robot. Idempotent:
    each case is handed back once. Returns how many were handed back.
    """
    today = today or timezone.localdate()
    handed = 0
    for case_id in Case.objects.filter(
        status=Case.Status.RETURNED, completion_due__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=case_id)
            if (
                case.status != Case.Status.RETURNED
                or case.supplements.filter(consumed_at__isnull=True).exists()
                or AuditEvent.objects.filter(
                    case=case,
                    kind=Kind.COMPLETION_DEADLINE_PASSED,
                    data__completion_due=case.completion_due.isoformat(),
                ).exists()
            ):
                continue
            audit_append(
                kind=Kind.COMPLETION_DEADLINE_PASSED,
                actor_label="robot:deadline",
                case=case,
                data={"completion_due": case.completion_due.isoformat()},
            )
            command_enqueue(
                kind=PrefectCommand.Kind.RESUME,
                case=case,
                payload={"run_input": {"case_id": case.pk, "deadline_passed": True}},
            )
            handed += 1
    return handed


def completion_deadline_verify(*, case_id: int) -> None:
    """Check a resume claim "deadline passed" against the database; the case is processed."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        passed = AuditEvent.objects.filter(case=case, kind=Kind.COMPLETION_DEADLINE_PASSED).exists()
        # Only a case still waiting, whose deadline the sweep recorded, goes on without a
        # supplement; any other claim is refused.
        if case.status != Case.Status.RETURNED or not passed:
            raise ServiceError(SUPPLEMENT_UNKNOWN, "The completion deadline has not passed.")
        Case.objects.filter(pk=case_id).update(status=Case.Status.PROCESSING)


def completion_flags(*, case: Case) -> list[dict]:
    """Flags the next material carries about the completion loop (deadline passed)."""
    event = (
        AuditEvent.objects.filter(case=case, kind=Kind.COMPLETION_DEADLINE_PASSED)
        .order_by("-seq")
        .first()
    )
    latest_supplement = (
        case.supplements.order_by("-received_at").values_list("received_at", flat=True).first()
    )
    if event is None or (latest_supplement and latest_supplement > event.created_at):
        return []
    return [
        {
            "code": "completion_deadline_passed",
            "severity": "warning",
            "origin": "robot",
            "text": (
                f"Kompletteringen kom inte in före {event.data['completion_due']}: "
                "pröva ärendet på de uppgifter som finns."
            ),
        }
    ]
