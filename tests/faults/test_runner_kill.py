"""The flow runner killed with runs mid-compile (issue 16: "nothing lost, nothing stuck").

A real Prefect server and the real warm worker (`python -m flows.worker`). Every case's
run is held right after its register snapshot was committed (approvals.faults
HOLD_AFTER: the material not compiled yet), then the worker's whole process group gets
SIGKILL (the runs stay Running in Prefect: zombies) or SIGTERM (the engine reports them
Crashed). A new worker starts; the watchdog, run here in rounds with a short silence,
must bring every case to one open request on one material version made from one
register snapshot. The operators' page and JSON show the stuck cases red until then.
"""

import json
import re
import signal
import time
from collections import Counter

import pytest
from django.urls import reverse

from approvals import faults, prefect_gateway, watchdog
from approvals.audit import Kind
from approvals.models import ApprovalRequest, AuditEvent, Case, Material, RegisterSnapshot
from tests.conftest import demo_application, receive
from tests.faults.runner_stack import RunnerStack, flow_run, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

CASES = 6
SILENCE = 4.0  # seconds without a sign of life before a run counts as stuck (test only)
PROCESS = "ekonomiskt-bistand"


@pytest.fixture(scope="module")
def runner(django_db_setup, tmp_path_factory):
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    stack = RunnerStack(tmp_path_factory.mktemp("runner-kill"))
    try:
        stack.start_server()
        with temporary_settings(
            updates={
                PREFECT_API_URL: stack.env["PREFECT_API_URL"],
                PREFECT_API_AUTH_STRING: stack.env["PREFECT_API_AUTH_STRING"],
            }
        ):
            yield stack
    finally:
        stack.stop()


@pytest.fixture
def live(runner, org, settings):
    settings.WATCHDOG_SILENCE_SECONDS = SILENCE
    settings.REGISTER_RETRY_DELAY_SECONDS = 0
    yield runner
    runner.stop_worker()  # the next test starts its own


def _health(client, otto) -> dict:
    client.force_login(otto)
    data = client.get(reverse("approvals:operations_json")).json()
    [process] = [p for p in data["processes"] if p["slug"] == PROCESS]
    return process["health"]


BADGES = {"overdue": "red", "warning": "amber", "ok": "green"}


def _page_level(client, otto) -> tuple[str, str]:
    """The level the page shows in bistånd's health row (its badge), and the row's text."""
    client.force_login(otto)
    html = client.get(reverse("approvals:operations")).content.decode()
    row = html.split(f'data-testid="health-{PROCESS}"', 1)[1].split("</tr>", 1)[0]
    badge = re.search(r'class="badge (\w+)"', row).group(1)
    return BADGES[badge], row


def _cases(org, tag: str) -> list[Case]:
    cases = []
    for n in range(CASES):
        application = demo_application("etj-2026-000103")
        application["external_ref"] = f"etj-2026-{tag}-{n}"
        cases.append(receive(org, application))
    delivered, pending = prefect_gateway.commands_deliver_due()
    assert (delivered, pending) == (CASES, 0)
    return [Case.objects.get(pk=c.pk) for c in cases]


def _kill_mid_compile(live, org, client, sig, tag):
    otto = org["users"]["otto"]
    live.start_worker(
        limit=CASES, **{faults.HOLD_ENV: faults.REGISTER_SNAPSHOT, faults.HOLD_SECONDS_ENV: "600"}
    )
    cases = _cases(org, tag)
    ids = [c.pk for c in cases]
    # Every run has stored its register answers and holds before compiling the material.
    wait_until(
        lambda: RegisterSnapshot.objects.filter(case_id__in=ids).count() == CASES,
        timeout=120,
        what="every run past its register snapshot",
        on_fail=live.log_tail,
    )
    print(f"[runner] {CASES} runs held mid-compile")
    first_runs = {c.pk: str(Case.objects.get(pk=c.pk).flow_run_id) for c in cases}
    assert {flow_run(r).state.type.value for r in first_runs.values()} == {"RUNNING"}
    assert not Material.objects.filter(case_id__in=ids).exists()

    killed_at = time.monotonic()
    live.kill_worker(sig)
    after_kill = {flow_run(r).state.type.value for r in first_runs.values()}
    statuses = set(Case.objects.filter(pk__in=ids).values_list("status", flat=True))
    if sig == signal.SIGKILL:
        # Nobody told Prefect or Django: the runs stay Running, the cases "processing".
        assert after_kill == {"RUNNING"} and statuses == {Case.Status.PROCESSING}
    else:
        # SIGTERM: the engine reported its runs Crashed and the hook stopped the cases.
        wait_until(
            lambda: {flow_run(r).state.type.value for r in first_runs.values()} == {"CRASHED"},
            timeout=30,
            what="the terminated runs Crashed",
        )

    # While stuck (past the silence, before the watchdog): red on the page and in the JSON.
    time.sleep(SILENCE + 0.5)
    health = _health(client, otto)
    assert health["status"] == "red", health
    if sig == signal.SIGKILL:
        assert "cases_stuck" in health["reasons"] and health["cases_stuck"] == CASES
    level, row = _page_level(client, otto)
    assert level == "red" and "Åtgärd krävs" in row
    if sig == signal.SIGKILL:
        assert "visar inga livstecken" in row  # "shows no sign of life", in Swedish
    red_for = time.monotonic() - killed_at

    live.start_worker(limit=4)
    restarted = set()

    def recovered():
        restarted.update(watchdog.watchdog_run().restarted)
        prefect_gateway.commands_deliver_due()
        return ApprovalRequest.objects.filter(
            case_id__in=ids, status="open"
        ).count() == CASES and all(
            flow_run(c.flow_run_id).state.type.value == "PAUSED"
            for c in Case.objects.filter(pk__in=ids)
        )

    wait_until(
        recovered, timeout=150, every=1, what="every case at a person", on_fail=live.log_tail
    )
    recovery = time.monotonic() - killed_at

    assert restarted == set(ids)
    for case in Case.objects.filter(pk__in=ids):
        assert case.status == Case.Status.AWAITING_DECISION
        assert case.robot_attempts == 2
        assert str(case.flow_run_id) != first_runs[case.pk]
        # Exactly once per version: one snapshot, one material, one request.
        assert RegisterSnapshot.objects.filter(case=case).count() == 1
        assert RegisterSnapshot.objects.get(case=case).version == 1
        assert list(Material.objects.filter(case=case).values_list("version", flat=True)) == [1]
        assert ApprovalRequest.objects.filter(case=case).count() == 1
        kinds = Counter(AuditEvent.objects.filter(case=case).values_list("kind", flat=True))
        assert kinds[Kind.MATERIAL_COMPILED] == 1 and kinds[Kind.REQUEST_OPENED] == 1
        assert kinds[Kind.ROBOT_RESTARTED] == 1
    # The killed runs are not left Running: after SIGTERM the engine reported them Crashed;
    # after SIGKILL the watchdog superseded the zombies as Cancelled (a worker may take a
    # Crashed run back to Pending, never a Cancelled one).
    ended = "CANCELLED" if sig == signal.SIGKILL else "CRASHED"
    assert {flow_run(r).state.type.value for r in first_runs.values()} == {ended}
    # A further round finds nothing to do; the stuck reason is gone.
    assert watchdog.watchdog_run().restarted == []
    health = _health(client, otto)
    assert "cases_stuck" not in health["reasons"] and health["cases_stuck"] == 0
    return {"red_after_s": round(red_for, 1), "recovered_after_s": round(recovery, 1)}, health


def test_runner_sigkilled_mid_compile_every_case_reaches_a_person_once(live, org, client):
    figures, health = _kill_mid_compile(live, org, client, signal.SIGKILL, "kill")
    # Nothing failed from Django's point of view (no hook ran): green again.
    assert health["status"] == "green", health
    assert _page_level(client, org["users"]["otto"])[0] == "green"
    print(f"\nSIGKILL, {CASES} runs mid-compile: " + json.dumps(figures))


def test_runner_sigterm_mid_compile_every_case_reaches_a_person_once(live, org, client):
    figures, health = _kill_mid_compile(live, org, client, signal.SIGTERM, "term")
    # The crash hook recorded each failure: amber (watch), no longer red.
    assert health["status"] in ("green", "amber") and health["reasons"] in (
        [],
        ["recent_failures"],
    ), health
    assert _page_level(client, org["users"]["otto"])[0] == health["status"]
    print(f"\nSIGTERM, {CASES} runs mid-compile: " + json.dumps(figures))
