"""Nothing lost, nothing twice, nothing stuck (issue 16): real processes killed with real
signals while work is under way, then restarted; every case ends where it should.

One stack (tests/faults/stack.py) serves the module. Each test sends its own cases,
kills one component, restarts it, and waits (bounded) until every case is in the
expected state; the seconds from the restart to that point are its time to recover,
printed and listed at the end of the run.
"""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from approvals.models import Case, Decision, Document, PrefectCommand
from tests.faults.conftest import (
    PASSWORD,
    application,
    report,
    runs_by_case,
    wait_recovered,
)
from tests.faults.stack import WebClient, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True), pytest.mark.timeout(420)]


class Background(threading.Thread):
    """Runs `fn` beside the test; join() re-raises its error. Its database connection is
    closed at the end (an open one would keep the test database from being dropped)."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn, self.error = fn, None

    def run(self):
        from django.db import connections

        try:
            self.fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test in join()
            self.error = exc
        finally:
            connections.close_all()

    def join(self, timeout=None):
        super().join(timeout)
        if self.error is not None:
            raise self.error


def refs(n: int) -> list[str]:
    prefix = uuid.uuid4().hex[:8]
    return [f"fault-{prefix}-{i:03d}" for i in range(n)]


def submit_all(stack, references, *, clients=3, pause=0.0, deadline_s=90, templates=None):
    """Send each application until the web answers; {ref: (status, body, tries)}.
    `templates`: the demo application each reference copies (else one for all)."""
    results = {}
    lock = threading.Lock()
    deadline = time.monotonic() + deadline_s

    def send(ref):
        web = WebClient(stack.web_url)
        body = application(ref, **({"template": templates[ref]} if templates else {}))
        status, body, tries = web.submit_until_answered(body, deadline=deadline)
        with lock:
            results[ref] = (status, body, tries)
        time.sleep(pause)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(send, references))
    return results


def accepted_cases(results) -> list[int]:
    assert all(status in (200, 201) for status, _, _ in results.values()), results
    return [body["id"] for _, body, _ in results.values()]


def test_prefect_server_killed_while_applications_arrive(stack, record_property):
    """The Prefect server is SIGKILLed while 8 applications arrive through the web, with
    flow runs under way, and started again 5 s later: each application gets exactly one
    case, one material and one open request, and its current flow run is Paused; every
    run that died with the server was replaced (only Crashed/Failed runs lie beside it)."""
    references = refs(8)
    killed = {}

    def killer():
        wait_until(
            lambda: Case.objects.filter(
                external_ref__in=references, status=Case.Status.PROCESSING
            ).exists(),
            timeout=90,
            what="a flow run under way",
            every=0.1,
        )
        stack.kill("prefect")
        killed["at"] = time.monotonic()
        killed["at_gate"] = Case.objects.filter(
            external_ref__in=references, status=Case.Status.AWAITING_DECISION
        ).count()

    thread = Background(killer)
    thread.start()
    results = submit_all(stack, references, clients=2, pause=1.0)
    thread.join()
    case_ids = accepted_cases(results)
    assert len(set(case_ids)) == len(references)
    time.sleep(max(0.0, 5 - (time.monotonic() - killed["at"])))
    restarted = stack.start_component("prefect")
    up = time.monotonic() - restarted
    seconds = wait_recovered(stack, case_ids, expect="gate", since=restarted, timeout=180)
    restarts = Case.objects.filter(pk__in=case_ids, robot_attempts__gt=1).count()
    record_property("recovery_seconds", round(seconds, 1))
    report(
        "prefect killed during intake",
        seconds,
        cases=len(case_ids),
        server_up_after=round(up, 1),
        at_gate_when_killed=killed["at_gate"],
        robot_restarts=restarts,
    )
    assert Case.objects.filter(external_ref__in=references).count() == len(references)


# Four applicants of the demo whose applications anna may approve (one decision each:
# a second approval for the same person and month is refused by the gate).
SIGNABLE = ["etj-2026-000101", "etj-2026-000103", "etj-2026-000104", "etj-2026-000105"]


def at_gate(stack, n: int) -> list[int]:
    """n applications (distinct applicants) through the web, each waiting for a decision."""
    references = refs(n)
    templates = dict(zip(references, SIGNABLE, strict=False))
    case_ids = accepted_cases(submit_all(stack, references, clients=2, templates=templates))
    wait_recovered(stack, case_ids, expect="gate", since=time.monotonic(), timeout=150)
    return case_ids


def sign_through_web(stack, case_ids, username="anna") -> None:
    from approvals.models import ApprovalRequest

    web = WebClient(stack.web_url)
    web.login(username, PASSWORD)
    for request in ApprovalRequest.objects.filter(case__in=case_ids, status="open").select_related(
        "material"
    ):
        status = web.sign(
            case_id=request.case_id,
            material_id=request.material_id,
            material_sha256=request.material.sha256,
            request_id=request.pk,
        )
        assert status == 302, f"signing case {request.case_id}: {status}"


def test_prefect_server_down_while_caseworkers_sign(stack, record_property):
    """With the Prefect server SIGKILLed, a caseworker signs 4 cases through the web: the
    decisions are stored and their resumes wait in the outbox; after the restart each
    resume is delivered, each run completes and each case has exactly one letter."""
    case_ids = at_gate(stack, 4)
    stack.kill("prefect")
    killed = time.monotonic()
    sign_through_web(stack, case_ids)
    assert Decision.objects.filter(request__case__in=case_ids).count() == 4
    resumes = PrefectCommand.objects.filter(case__in=case_ids, kind="resume")
    assert resumes.count() == 4
    assert set(resumes.values_list("status", flat=True)) == {"pending"}
    assert not Document.objects.filter(case__in=case_ids, kind="decision_letter").exists()
    time.sleep(max(0.0, 5 - (time.monotonic() - killed)))
    restarted = stack.start_component("prefect")
    up = time.monotonic() - restarted
    seconds = wait_recovered(stack, case_ids, expect="decided", since=restarted, timeout=180)
    record_property("recovery_seconds", round(seconds, 1))
    report("prefect down while signing", seconds, cases=len(case_ids), server_up_after=round(up, 1))
    assert set(resumes.values_list("status", flat=True)) == {"done"}
    assert Decision.objects.filter(request__case__in=case_ids).count() == 4


def test_outbox_killed_mid_delivery(stack, record_property):
    """The outbox worker is SIGKILLed while it delivers 6 flow starts (right after the
    first is delivered) and started again: every case gets exactly one flow run in
    Prefect (the idempotency key holds across the kill) and waits for a decision."""
    stack.kill("outbox")
    references = refs(6)
    case_ids = accepted_cases(submit_all(stack, references, clients=2))
    starts = PrefectCommand.objects.filter(case__in=case_ids, kind="start")
    assert set(starts.values_list("status", flat=True)) == {"pending"}
    stack.start_component("outbox", wait=False)
    wait_until(
        lambda: starts.filter(status="done").exists(), timeout=60, what="a delivery", every=0.02
    )
    stack.kill("outbox")
    delivered = starts.filter(status="done").count()
    # Runs Prefect created whose start Django had not yet recorded: killed in between.
    created = runs_by_case(stack)
    in_between = sum(1 for pk in case_ids if created.get(pk)) - delivered
    restarted = stack.start_component("outbox")
    seconds = wait_recovered(stack, case_ids, expect="gate", since=restarted, timeout=150)
    record_property("recovery_seconds", round(seconds, 1))
    report(
        "outbox killed mid-delivery",
        seconds,
        cases=len(case_ids),
        delivered_before=delivered,
        created_but_unrecorded=in_between,
    )
    runs = {pk: len(r) for pk, r in runs_by_case(stack).items()}
    assert all(runs.get(pk) == 1 for pk in case_ids), runs
    assert delivered < len(case_ids)


def test_web_killed_mid_post_with_client_retries(stack, record_property):
    """gunicorn (master and both workers) is SIGKILLed while 3 clients post 8 applications
    and started again 2 s later; the clients repeat each unanswered POST with the same
    body: every application the clients saw accepted exists exactly once, and each case
    reaches the inbox."""
    references = refs(8)
    killed = {}

    def killer():
        wait_until(
            lambda: Case.objects.filter(external_ref__in=references).count() >= 2,
            timeout=60,
            what="the first applications",
            every=0.05,
        )
        stack.kill("web")
        time.sleep(2)
        killed["restarted"] = stack.start_component("web")

    thread = Background(killer)
    thread.start()
    results = submit_all(stack, references, clients=3, pause=0.5, deadline_s=120)
    thread.join()
    case_ids = accepted_cases(results)
    by_ref = dict(
        Case.objects.filter(external_ref__in=references).values_list("external_ref", "pk")
    )
    assert by_ref == {ref: body["id"] for ref, (_, body, _) in results.items()}
    assert Case.objects.filter(external_ref__in=references).count() == len(references)
    retried = sum(1 for _, _, tries in results.values() if tries > 1)
    replays = sum(1 for status, _, _ in results.values() if status == 200)
    seconds = wait_recovered(stack, case_ids, expect="gate", since=killed["restarted"], timeout=150)
    record_property("recovery_seconds", round(seconds, 1))
    report("web killed mid-POST", seconds, cases=len(case_ids), retried=retried, replays=replays)
    assert retried >= 1
