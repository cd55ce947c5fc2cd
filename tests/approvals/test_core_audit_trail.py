"""The audit trail, with the test-only process: append-only in the database, and
tampering shows in verify_audit. Bistånd's version: tests/flows/ekonomiskt_bistand/."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from approvals import rules, services
from approvals.audit import Kind, audit_append, audit_guard_missing, audit_verify
from approvals.models import ApprovalRequest, AuditChainHead, AuditEvent, Decision
from municipality import services as delegation_services
from municipality.models import Delegation, DelegationChange
from tests.db_helpers import as_owner, guards_off, refused_by_database
from tests.gate_helpers import FLOW_RUN_ID, decide

# Nothing here reads PDF bytes: skip WeasyPrint.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the database guards are tested on PostgreSQL")


def _verify_fails(*args) -> str:
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit", *args)
    return str(exc.value)


@pytest.fixture
def decided(core_request, crew, core_org):
    """A case with a robot step, a signed decision and a fair number of events."""
    services.robot_step_record(
        case_id=core_request.case_id,
        step="check",
        inputs={"asked": 4000},
        outputs={"proposal": 4000},
        flow_run_id=FLOW_RUN_ID,
    )
    decide(core_request, crew["kim"])
    return core_request


# --- every step leaves an event ------------------------------------------------------


def test_every_step_of_a_case_is_on_its_trail(decided, crew):
    """Intake, robot steps, material, request, the read, the signature: each one an event."""
    kinds = list(AuditEvent.objects.filter(case=decided.case).values_list("kind", flat=True))
    for kind in (
        Kind.APPLICATION_RECEIVED,
        Kind.ROBOT_STEP,
        Kind.MATERIAL_COMPILED,
        Kind.REQUEST_OPENED,
        Kind.MATERIAL_VIEWED,
        Kind.DECISION_SIGNED,
    ):
        assert kind in kinds
    assert audit_verify() is None


def test_refused_signature_is_on_the_trail(core_request, crew, core_org):
    """A refused attempt is logged apart from the refused transaction."""
    services.decision_sign_refusal_record(
        request_id=core_request.pk, user=crew["kai"], code="DECISION_MATERIAL_NOT_OPENED"
    )
    event = AuditEvent.objects.get(kind=Kind.DECISION_REFUSED)
    assert event.actor == crew["kai"]
    assert event.data["code"] == "DECISION_MATERIAL_NOT_OPENED"


def test_read_records_whether_there_was_an_open_assignment(decided, crew):
    """After the decision, a read by a unit colleague has no open assignment."""
    event = services.case_access_record(user=crew["lo"], case=decided.case, what="case_page")
    assert event.kind == Kind.CASE_VIEWED
    assert event.data == {"what": "case_page", "open_assignment": False, "purpose": "casework"}


# --- the database refuses changes ----------------------------------------------------


def _refused_by_database(statement):
    """Refused as the app role, and as the owner by the append-only trigger."""
    refused_by_database(statement, match="append-only")


def test_database_refuses_to_update_an_audit_event(decided):
    """UPDATE on approvals_auditevent fails, through the ORM and in plain SQL."""
    event = AuditEvent.objects.filter(case=decided.case).first()
    event.actor_label = "someone else"
    _refused_by_database(lambda: event.save())
    _refused_by_database(lambda: AuditEvent.objects.update(data={}))

    def raw():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE approvals_auditevent SET kind = 'x' WHERE seq = 1")

    _refused_by_database(raw)
    event.refresh_from_db()
    assert event.actor_label != "someone else"


def test_database_refuses_to_delete_an_audit_event(decided):
    """DELETE on approvals_auditevent fails, through the ORM and in plain SQL."""
    count = AuditEvent.objects.count()
    _refused_by_database(lambda: AuditEvent.objects.filter(seq=2).delete())

    def raw():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM approvals_auditevent")

    _refused_by_database(raw)
    assert AuditEvent.objects.count() == count


def test_chain_head_stays_updatable(decided):
    """Appending still works: the guard covers events, not the chain head."""
    head = AuditChainHead.objects.get()
    event = audit_append(kind=Kind.ROBOT_STEP, actor_label="robot:test", case=decided.case)
    head.refresh_from_db()
    assert head.last_seq == event.seq and head.last_hash == event.hash


def test_database_refuses_to_change_the_delegation_history(crew, core_org):
    """The delegation order's history rows are append-only too."""
    line = Delegation.objects.filter(unit=core_org["unit"]).first()
    delegation_services.delegation_order_save(
        line=line, admin_user=crew["uno"], reason="Committee decision 2026-03"
    )
    change = DelegationChange.objects.get()
    _refused_by_database(lambda: DelegationChange.objects.update(reason="nothing happened"))
    _refused_by_database(lambda: DelegationChange.objects.all().delete())
    change.refresh_from_db()
    assert change.reason == "Committee decision 2026-03"


def test_all_guards_are_installed():
    """The migrations install every append-only trigger."""
    assert audit_guard_missing() == []


# --- verify_audit --------------------------------------------------------------------


def test_verify_audit_passes_an_intact_trail(decided, capsys):
    """An untouched trail verifies and the command prints the head to keep outside."""
    call_command("verify_audit")
    head = AuditChainHead.objects.get()
    assert f"Head {head.last_seq}:{head.last_hash}" in capsys.readouterr().out


def test_verify_audit_catches_an_altered_row(decided):
    """Changing an event's content in the database breaks its hash; the event is named."""
    event = AuditEvent.objects.get(kind=Kind.DECISION_SIGNED)
    with guards_off() as cursor:
        cursor.execute(
            "UPDATE approvals_auditevent SET data = jsonb_set(data, '{amount}', '99999') "
            "WHERE seq = %s",
            [event.seq],
        )
    message = _verify_fails()
    assert f"broken at event {event.seq}" in message
    assert "content does not match its hash" in message


def test_verify_audit_catches_a_row_rewritten_with_a_fresh_hash(decided):
    """Recomputing the altered row's own hash does not help: the next event no longer links."""
    from approvals.audit import event_hash

    event = AuditEvent.objects.get(kind=Kind.MATERIAL_VIEWED)
    event.actor_label = "human:kai"
    new_hash = event_hash(event)
    with guards_off() as cursor:
        cursor.execute(
            "UPDATE approvals_auditevent SET actor_label = %s, hash = %s WHERE seq = %s",
            ["human:kai", new_hash, event.seq],
        )
    assert f"broken at event {event.seq + 1}" in _verify_fails()


def test_verify_audit_catches_a_removed_middle_row(decided):
    """Removing an event in the middle leaves a gap the command names."""
    middle = AuditEvent.objects.count() // 2
    with guards_off() as cursor:
        cursor.execute("DELETE FROM approvals_auditevent WHERE seq = %s", [middle])
    message = _verify_fails()
    assert f"broken at event {middle}" in message
    assert "missing" in message


def test_verify_audit_catches_a_removed_last_row(decided):
    """Removing the newest event is caught by the chain head."""
    last = AuditChainHead.objects.get().last_seq
    with guards_off() as cursor:
        cursor.execute("DELETE FROM approvals_auditevent WHERE seq = %s", [last])
    message = _verify_fails()
    assert f"broken at event {last}" in message
    assert "removed" in message


def test_verify_audit_catches_a_rewritten_tail_with_an_anchor(decided):
    """Deleting the last row and moving the head back passes the chain check, but not the
    anchor printed by an earlier run and kept outside the database; and the signed
    decision whose signing event was removed no longer matches the trail."""
    head = AuditChainHead.objects.get()
    anchor = f"{head.last_seq}:{head.last_hash}"
    previous = AuditEvent.objects.get(seq=head.last_seq - 1)
    with guards_off() as cursor:
        cursor.execute("DELETE FROM approvals_auditevent WHERE seq = %s", [head.last_seq])
    AuditChainHead.objects.filter(pk=1).update(last_seq=previous.seq, last_hash=previous.hash)
    assert "no signing event on the trail" in _verify_fails()
    assert f"broken at event {head.last_seq}" in _verify_fails("--anchor", anchor)


def test_verify_audit_refuses_a_malformed_anchor(decided):
    """An anchor must be SEQ:SHA256."""
    assert "not SEQ:SHA256" in _verify_fails("--anchor", "12:abc")


def test_verify_audit_reports_a_disabled_guard(decided):
    """A trigger switched off leaves the trail intact but unprotected: the command fails."""
    with as_owner() as cursor:
        # Deferred foreign-key checks must run before the table can be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE approvals_auditevent DISABLE TRIGGER USER")
    message = _verify_fails()
    assert "approvals_auditevent_append_only" in message


def test_verify_audit_on_an_empty_trail_succeeds(db, capsys):
    """No events yet is an intact trail."""
    call_command("verify_audit")
    assert "intact" in capsys.readouterr().out


def test_events_keep_their_time_and_order(decided):
    """Sequence numbers are gapless and times never go backwards."""
    events = list(AuditEvent.objects.order_by("seq").values_list("seq", "created_at"))
    assert [seq for seq, _ in events] == list(range(1, len(events) + 1))
    assert all(a[1] <= b[1] for a, b in zip(events, events[1:], strict=False))
    assert events[-1][1] <= timezone.now()


# --- signed records against the trail (issue 10, point 4) --------------------------------


def _signed(core_request, crew):
    return decide(core_request, crew["kim"])


def test_database_refuses_to_change_a_signed_decision(core_request, crew, core_org):
    """The amount, outcome or signer of a signed decision cannot be updated in place."""
    decision = _signed(core_request, crew)
    for column, value in (("authority_amount", 99999), ("outcome", "refused"), ("motivation", "x")):

        def update(column=column, value=value):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE approvals_decision SET {column} = %s WHERE id = %s",
                    [value, decision.pk],
                )

        refused_by_database(update)
    Decision.objects.filter(pk=decision.pk).update(verified_at=decision.signed_at)


def test_database_refuses_to_change_material_or_documents(core_request, crew, core_org):
    def forge():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE approvals_material SET html = 'forged' WHERE id = %s",
                [core_request.material_id],
            )

    refused_by_database(forge)


def test_an_edited_decision_is_not_executed_and_verify_audit_names_it(core_request, crew, core_org):
    """With the guard switched off by the table owner, the edit is still caught: the row no
    longer matches the hash recorded when it was signed."""
    from tests.gate_helpers import verify

    decision = _signed(core_request, crew)
    with guards_off() as cursor:
        cursor.execute(
            "UPDATE approvals_decision SET authority_amount = 99999 WHERE id = %s", [decision.pk]
        )
    decision.refresh_from_db()
    with pytest.raises(services.GateRefused) as exc:
        verify(decision)
    assert exc.value.code == rules.RESUME_RECORD_TAMPERED
    assert f"decision {decision.pk}: differs from what was signed" in _verify_fails()


def test_an_inserted_decision_without_a_signing_event_is_not_executed(core_request, crew, core_org):
    from django.utils import timezone

    from municipality.models import Delegation
    from tests.gate_helpers import verify

    now = timezone.now()
    decision = Decision.objects.create(
        request=core_request,
        outcome="approved",
        authority_amount=core_request.authority_amount,
        signer=crew["kim"],
        signer_name="Anna Lind",
        signer_title="x",
        delegation=Delegation.objects.filter(unit=core_org["unit"]).first(),
        signed_at=now,
        material=core_request.material,
        material_sha256=core_request.material.sha256,
        material_opened_at=now,
        followed_proposal=True,
        grants_amount=True,
    )
    ApprovalRequest.objects.filter(pk=core_request.pk).update(status="decided")
    with pytest.raises(services.GateRefused) as exc:
        verify(decision)
    assert exc.value.code == rules.RESUME_RECORD_TAMPERED
    assert "no signing event on the trail" in _verify_fails()


def test_edited_material_bytes_are_caught(core_request, crew, core_org):
    with guards_off() as cursor:
        cursor.execute(
            "UPDATE approvals_material SET html = 'forged' WHERE id = %s",
            [core_request.material_id],
        )
    assert (
        f"material {core_request.material_id}: content does not match its hash" in _verify_fails()
    )


# --- anchors outside the database (issue 10, point 5) -----------------------------------


def _anchored(decided):
    from approvals.anchors import anchor_append

    anchor = anchor_append()
    call_command("verify_audit")  # intact, and the anchor agrees
    return anchor


def test_anchors_catch_a_truncated_trail_with_its_head_reset(decided):
    _anchored(decided)
    with guards_off() as cursor:
        cursor.execute("DELETE FROM approvals_auditevent")
    AuditChainHead.objects.filter(pk=1).update(last_seq=0, last_hash="0" * 64)
    assert "is missing" in _verify_fails()


def test_anchors_catch_a_rewritten_and_rehashed_trail(decided):
    from approvals.audit import event_hash

    anchor = _anchored(decided)
    # Rewrite an event's content and recompute the whole chain from it, as the table owner
    # could with the triggers off: the chain is intact in itself, the anchor is not.
    with guards_off():
        events = list(AuditEvent.objects.order_by("seq"))
        prev = "0" * 64
        case_last = {}
        for event in events:
            if event.seq == 2:
                event.data = {**event.data, "rewritten": True}
            event.prev_hash = prev
            event.case_prev_hash = case_last.get(event.case_id, "0" * 64) if event.case_id else ""
            event.hash = event_hash(event)
            AuditEvent.objects.filter(pk=event.pk).update(
                data=event.data,
                prev_hash=event.prev_hash,
                case_prev_hash=event.case_prev_hash,
                hash=event.hash,
            )
            prev = event.hash
            if event.case_id:
                case_last[event.case_id] = event.hash
        AuditChainHead.objects.filter(pk=1).update(last_hash=prev)
    assert audit_verify() is None  # the chain alone says "intact"
    assert f"event {anchor.seq} differs from its anchor" in _verify_fails()


def test_anchors_catch_dropped_last_events(decided):
    anchor = _anchored(decided)
    previous = AuditEvent.objects.get(seq=anchor.seq - 1)
    with guards_off() as cursor:
        cursor.execute("DELETE FROM approvals_auditevent WHERE seq = %s", [anchor.seq])
    AuditChainHead.objects.filter(pk=1).update(last_seq=previous.seq, last_hash=previous.hash)
    assert f"event {anchor.seq}, anchored at" in _verify_fails()


def test_a_forged_anchor_line_is_refused(decided, settings):
    _anchored(decided)
    path = settings.AUDIT_ANCHOR_FILE
    path.write_text(path.read_text() + f"1 {'a' * 64} 2026-01-01T00:00:00+00:00 {'b' * 64}\n")
    assert "not validly signed" in _verify_fails()
