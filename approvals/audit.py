"""The append-only, hash-chained audit trail.

Every event's hash covers its content and the previous event's hash (globally and
within its case). Appends lock the single chain-head row, which serialises them.
"""

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent, Case, Material

GENESIS_HASH = "0" * 64


class Kind:
    """Event kinds, named once so that pages, tests and rules agree."""

    APPLICATION_RECEIVED = "application.received"
    SUPPLEMENT_RECEIVED = "supplement.received"
    FLOW_START_REQUESTED = "flow.start_requested"
    FLOW_STARTED = "flow.started"
    ROBOT_STEP = "robot.step"
    MATERIAL_COMPILED = "material.compiled"
    REQUEST_OPENED = "request.opened"
    CASE_VIEWED = "case.viewed"
    MATERIAL_VIEWED = "material.viewed"
    LETTER_VIEWED = "letter.viewed"
    DECISION_SIGNED = "decision.signed"
    DECISION_REFUSED = "decision.sign_refused"
    RESUME_DELIVERED = "resume.delivered"
    RESUME_FAILED = "resume.delivery_failed"
    RESUME_VERIFIED = "resume.verified"
    RESUME_REJECTED = "resume.rejected"
    DECISION_EXECUTED = "decision.executed"
    LETTER_CREATED = "letter.created"
    CASE_RETURNED = "case.returned"


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(event: AuditEvent) -> str:
    """Hash of an event's content and its links; recomputed by verify_audit."""
    payload = {
        "seq": event.seq,
        "case": event.case_id,
        "kind": event.kind,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "material": event.material_id,
        "data": event.data,
        "created_at": event.created_at.isoformat(),
        "prev_hash": event.prev_hash,
        "case_prev_hash": event.case_prev_hash,
    }
    return hashlib.sha256(_canonical(payload)).hexdigest()


def audit_append(
    *,
    kind: str,
    actor_label: str,
    case: Case | None = None,
    actor=None,
    material: Material | None = None,
    data: dict | None = None,
) -> AuditEvent:
    """Append one event to the trail. Runs inside the caller's transaction if any."""
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        case_prev = ""
        if case is not None:
            last = (
                AuditEvent.objects.filter(case=case)
                .order_by("-seq")
                .values_list("hash", flat=True)
                .first()
            )
            case_prev = last or GENESIS_HASH
        event = AuditEvent(
            seq=head.last_seq + 1,
            case=case,
            kind=kind,
            actor=actor,
            actor_label=actor_label,
            material=material,
            data=json.loads(json.dumps(data or {}, default=str)),
            created_at=timezone.now(),
            prev_hash=head.last_hash,
            case_prev_hash=case_prev,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def audit_verify(*, batch_size: int = 2000) -> ChainBreak | None:
    """Walk the whole trail; return the first broken event, or None when intact."""
    prev = GENESIS_HASH
    case_last: dict[int, str] = {}
    expected_seq = 1
    qs = AuditEvent.objects.order_by("seq")
    last_seen = 0
    while True:
        batch = list(qs.filter(seq__gt=last_seen)[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                return ChainBreak(expected_seq, f"event {expected_seq} is missing")
            if event.prev_hash != prev:
                return ChainBreak(event.seq, "does not link to the previous event")
            if event.case_id is not None:
                if event.case_prev_hash != case_last.get(event.case_id, GENESIS_HASH):
                    return ChainBreak(event.seq, "does not link to the previous event of its case")
                case_last[event.case_id] = event.hash
            if event_hash(event) != event.hash:
                return ChainBreak(event.seq, "content does not match its hash")
            prev = event.hash
            expected_seq += 1
            last_seen = event.seq
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != last_seen or head.last_hash != prev):
        return ChainBreak(last_seen + 1, f"events after {last_seen} were removed")
    return None
