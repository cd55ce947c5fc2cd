"""The outbox with the test-only process: a flow start waits while Prefect is down."""

import pytest
from django.utils import timezone

from approvals.models import AuditEvent, PrefectCommand
from approvals.prefect_gateway import command_deliver, commands_deliver_due
from municipality.runtime import free_port

from .core_helpers import core_open


@pytest.fixture
def prefect_down():
    """Prefect's API on a free local port nobody listens on."""
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    with temporary_settings(
        updates={
            PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api",
            PREFECT_CLIENT_MAX_RETRIES: 0,
        }
    ):
        yield


@pytest.mark.django_db
def test_flow_start_waits_in_outbox_while_prefect_is_down(core_org, prefect_down):
    """A failed start stays pending with the error, a later attempt time, and an audit event."""
    case = core_open(core_org, started=False)
    command = PrefectCommand.objects.get(case=case)
    assert command.payload == {"case_id": case.pk}
    assert command_deliver(command_id=command.pk) is False
    command.refresh_from_db()
    assert command.status == "pending" and command.attempts == 1
    assert command.next_attempt_at > timezone.now()
    assert "ConnectError" in command.last_error or "connect" in command.last_error.lower()
    assert AuditEvent.objects.filter(case=case, kind="flow.start_failed").exists()
    case.refresh_from_db()
    assert case.flow_run_id is None


@pytest.mark.django_db
def test_backoff_skips_commands_not_yet_due(core_org, prefect_down):
    """A command whose next attempt lies ahead is not retried early."""
    case = core_open(core_org, started=False)
    command = PrefectCommand.objects.get(case=case)
    command_deliver(command_id=command.pk)
    assert commands_deliver_due() == (0, 0)
    PrefectCommand.objects.filter(pk=command.pk).update(next_attempt_at=timezone.now())
    assert commands_deliver_due() == (0, 1)
    command.refresh_from_db()
    assert command.attempts == 2
