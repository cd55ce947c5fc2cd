"""The append-only, hash-chained audit trail.

Every event's hash covers its content and the previous event's hash (globally and
within its case). Appends lock the single chain-head row, which serialises them.
"""

import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .hashing import canonical_sha256
from .models import AuditChainHead, AuditEvent, Case, Material

GENESIS_HASH = "0" * 64


class Kind:
    """Every event kind of the trail, named once so that pages, tests and rules agree."""

    APPLICATION_RECEIVED = "application.received"
    SUPPLEMENT_RECEIVED = "supplement.received"
    # The outbox asked Prefect for a run and Prefect did not take it (retried later).
    FLOW_START_FAILED = "flow.start_failed"
    FLOW_STARTED = "flow.started"
    ROBOT_STEP = "robot.step"
    MATERIAL_COMPILED = "material.compiled"
    REQUEST_OPENED = "request.opened"
    CASE_VIEWED = "case.viewed"
    MATERIAL_VIEWED = "material.viewed"
    DOCUMENT_VIEWED = "document.viewed"
    DECISION_SIGNED = "decision.signed"
    DECISION_COSIGNED = "decision.cosigned"
    DECISION_REFUSED = "decision.sign_refused"
    RESUME_DELIVERED = "resume.delivered"
    RESUME_FAILED = "resume.delivery_failed"
    RESUME_VERIFIED = "resume.verified"
    RESUME_REJECTED = "resume.rejected"
    DECISION_EXECUTED = "decision.executed"
    DOCUMENT_CREATED = "document.created"
    CASE_RETURNED = "case.returned"
    # A service process's robot settled the case alone: the robot's act, no person's.
    CASE_COMPLETED_BY_ROBOT = "case.completed_by_robot"
    # The deadline of a request for completion passed with no supplement: back to a person.
    COMPLETION_DEADLINE_PASSED = "completion.deadline_passed"
    # The robot of a case was started again (by the watchdog or an operator, with a reason).
    ROBOT_RESTARTED = "robot.restarted"
    # The watchdog gave up after its attempts: an operator must look (red on the catalogue).
    ROBOT_NEEDS_OPERATOR = "robot.needs_operator"
    EXCEPTION_OPENED = "exception.opened"
    EXCEPTION_SETTLED = "exception.settled"
    # Inbox work: claims, releases, reassignments, escalations and e-mails sent.
    REQUEST_CLAIMED = "request.claimed"
    REQUEST_UNCLAIMED = "request.unclaimed"
    REQUEST_REASSIGNED = "request.reassigned"
    REQUEST_ESCALATED = "request.escalated"
    NOTICE_SENT = "notice.sent"
    # An auditor's page that shows no single case (search, statistics, access log).
    AUDIT_VIEWED = "audit.viewed"
    # Kinds written before documents were generic; kept so that old trails read.
    LEGACY_LETTER_VIEWED = "letter.viewed"
    LEGACY_LETTER_CREATED = "letter.created"
    LEGACY_FLOW_START_REQUESTED = "flow.start_requested"
    # A journal note (or an addendum to one) written on a case.
    NOTE_WRITTEN = "note.written"
    # The second signer refused to co-sign; the request went back to the first signer.
    COSIGNATURE_DECLINED = "decision.cosignature_declined"
    # A search for cases (by name, personnummer or reference); each hit shown is a read.
    CASES_SEARCHED = "cases.searched"
    # A caseworker handed a case the gate refused them to a colleague who may sign it.
    REQUEST_HANDED_OVER = "request.handed_over"
    # Accounts and their powers (municipality.account_audit): who can log in as whom, and
    # with which grants, decides who can sign. Global events (no case).
    ACCOUNT_CREATED = "account.created"
    ACCOUNT_CHANGED = "account.changed"
    ACCOUNT_DELETED = "account.deleted"
    # A password set: by the owner, by another account or by the system (never the hash).
    ACCOUNT_PASSWORD_SET = "account.password_set"
    ACCOUNT_GROUP_ADDED = "account.group_added"
    ACCOUNT_GROUP_REMOVED = "account.group_removed"
    # A global or object permission granted to / withdrawn from an account or a group.
    PERMISSION_GRANTED = "permission.granted"
    PERMISSION_REVOKED = "permission.revoked"
    STAFF_CREATED = "staff.created"
    STAFF_CHANGED = "staff.changed"
    API_TOKEN_CREATED = "api_token.created"
    API_TOKEN_REVOKED = "api_token.revoked"
    API_TOKEN_RESTORED = "api_token.restored"
    API_TOKEN_DELETED = "api_token.deleted"


# The events that change what a case's submitter sees in the status API.
STATUS_EVENTS = (
    Kind.REQUEST_OPENED,
    Kind.EXCEPTION_OPENED,
    Kind.DECISION_EXECUTED,
    Kind.CASE_RETURNED,
    Kind.CASE_COMPLETED_BY_ROBOT,
    Kind.EXCEPTION_SETTLED,
    Kind.COMPLETION_DEADLINE_PASSED,
)

# Reads of case data, reviewed on the auditor's access-log page.
ACCESS_KINDS = (
    Kind.CASE_VIEWED,
    Kind.MATERIAL_VIEWED,
    Kind.DOCUMENT_VIEWED,
    Kind.LEGACY_LETTER_VIEWED,
)

# Changes to accounts, grants, staff records and API tokens (municipality.account_audit).
ACCOUNT_KINDS = (
    Kind.ACCOUNT_CREATED,
    Kind.ACCOUNT_CHANGED,
    Kind.ACCOUNT_DELETED,
    Kind.ACCOUNT_PASSWORD_SET,
    Kind.ACCOUNT_GROUP_ADDED,
    Kind.ACCOUNT_GROUP_REMOVED,
    Kind.PERMISSION_GRANTED,
    Kind.PERMISSION_REVOKED,
    Kind.STAFF_CREATED,
    Kind.STAFF_CHANGED,
    Kind.API_TOKEN_CREATED,
    Kind.API_TOKEN_REVOKED,
    Kind.API_TOKEN_RESTORED,
    Kind.API_TOKEN_DELETED,
)

# Tables the database refuses to change, and the guards of the decision mode (migrations
# approvals 0004, 0008, 0011, municipality 0003); verify_audit reports any that is missing.
APPEND_ONLY_TRIGGERS = {
    "postgresql": [
        ("approvals_auditevent", "approvals_auditevent_append_only"),
        ("approvals_cosignature", "approvals_cosignature_append_only"),
        ("approvals_decision", "approvals_decision_append_only"),
        ("approvals_decision", "approvals_decision_signed_fields"),
        ("approvals_decision", "approvals_decision_mode_guard"),
        ("approvals_case", "approvals_case_end_guard"),
        ("approvals_material", "approvals_material_append_only"),
        ("approvals_document", "approvals_document_append_only"),
        ("approvals_exceptionsettlement", "approvals_exceptionsettlement_append_only"),
        ("approvals_casenote", "approvals_casenote_append_only"),
        ("approvals_cosignaturedecline", "approvals_cosignaturedecline_append_only"),
        ("municipality_delegationchange", "municipality_delegationchange_append_only"),
    ],
    "sqlite": [
        ("approvals_auditevent", "approvals_auditevent_no_update"),
        ("approvals_auditevent", "approvals_auditevent_no_delete"),
        ("approvals_cosignature", "approvals_cosignature_no_update"),
        ("approvals_cosignature", "approvals_cosignature_no_delete"),
        ("approvals_decision", "approvals_decision_no_delete"),
        ("approvals_decision", "approvals_decision_signed_fields"),
        ("approvals_decision", "approvals_decision_mode_guard"),
        ("approvals_case", "approvals_case_decided_guard"),
        ("approvals_case", "approvals_case_insert_guard"),
        ("approvals_case", "approvals_case_mode_fixed"),
        ("approvals_case", "approvals_case_completed_guard"),
        ("approvals_material", "approvals_material_no_update"),
        ("approvals_material", "approvals_material_no_delete"),
        ("approvals_document", "approvals_document_no_update"),
        ("approvals_document", "approvals_document_no_delete"),
        ("approvals_casenote", "approvals_casenote_no_update"),
        ("approvals_casenote", "approvals_casenote_no_delete"),
        ("approvals_cosignaturedecline", "approvals_cosignaturedecline_no_update"),
        ("approvals_cosignaturedecline", "approvals_cosignaturedecline_no_delete"),
        ("municipality_delegationchange", "municipality_delegationchange_no_update"),
        ("municipality_delegationchange", "municipality_delegationchange_no_delete"),
    ],
}


def actor_label_for(user) -> str:
    """How a person or account is named on the trail: its kind and username."""
    staff = getattr(user, "staff", None)
    kind = staff.kind if staff else "unknown"
    return f"{kind}:{user.get_username()}"


def event_payload(event: AuditEvent) -> dict:
    """What an event's hash covers: its content and its links, as JSON values."""
    return {
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


def payload_hash(payload: dict) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of a payload."""
    return canonical_sha256(payload)


def event_hash(event: AuditEvent) -> str:
    """Hash of an event's content and its links; recomputed by verify_audit."""
    return payload_hash(event_payload(event))


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
        if case is not None:
            # The case before the head: the one lock order (approvals.locks).
            from .locks import case_lock

            case_lock(case.pk)
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
        if case is not None and kind in STATUS_EVENTS:
            # The applicant's system hears of every status change (callbacks outbox).
            from .callbacks import callbacks_enqueue

            callbacks_enqueue(case=case, event=kind)
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


def case_chain_break(events: list[dict]) -> ChainBreak | None:
    """First broken event in one case's exported events (payload dicts with their hash).

    What an outside party does with the JSON export: recompute each hash and follow
    case_prev_hash from the genesis hash.
    """
    prev = GENESIS_HASH
    for event in sorted(events, key=lambda e: e["seq"]):
        if event["case_prev_hash"] != prev:
            return ChainBreak(event["seq"], "does not link to the previous event of its case")
        payload = {k: event[k] for k in event if k != "hash"}
        if payload_hash(payload) != event["hash"]:
            return ChainBreak(event["seq"], "content does not match its hash")
        prev = event["hash"]
    return None


def audit_guard_missing(connection=None) -> list[str]:
    """Names of append-only triggers missing from the database (e.g. lost in a table rebuild)."""
    from django.db import connection as default_connection

    connection = connection or default_connection
    expected = APPEND_ONLY_TRIGGERS.get(connection.vendor)
    if expected is None:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for _table, name in expected if name not in present]
