"""Fixtures of the fault tests: one whole stack per module (tests/faults/stack.py) and the
checks of "nothing lost, nothing twice, nothing stuck" on the cases a test sent."""

import signal
import time
from collections import Counter, defaultdict

import pytest

from tests.faults.stack import Stack

PASSWORD = "Lång-och-slumpad-2026"
BAD_ENDS = {"CRASHED", "FAILED", "CANCELLED"}


@pytest.fixture(scope="module")
def fault_stack(django_db_setup, tmp_path_factory):
    """Prefect server, warm worker, outbox, watchdog and gunicorn (2 workers), as processes."""
    stack = Stack(tmp_path_factory.mktemp("fault-stack"))
    stack.start()
    try:
        with stack.prefect_settings():
            yield stack
    finally:
        stack.stop()


@pytest.fixture
def stack(fault_stack, transactional_db):
    """The module's stack, every component running, the demo organisation committed and
    anna's and maria's passwords hashed by the production hasher (the web's)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.contrib.auth.models import User

    from municipality.demo import demo_organisation_load

    fault_stack.ensure_running()
    if fault_stack.tests_served:
        # The previous test's flush recreated the content types under new ids; the web's
        # workers cache the old ones (django-guardian's permission lookups would fail).
        # Production never flushes: only the test needs fresh workers.
        fault_stack.restart("web", signal.SIGTERM)
    fault_stack.tests_served += 1
    demo_organisation_load()
    hasher = PBKDF2PasswordHasher()
    User.objects.filter(username__in=["anna", "maria"]).update(
        password=hasher.encode(PASSWORD, hasher.salt())
    )
    yield fault_stack
    # Leave nothing moving into the next test's flush: the robot work of this test is
    # judged by the test itself; here only the processes are made whole again.
    fault_stack.ensure_running()


def application(ref: str, template: str = "etj-2026-000103") -> dict:
    from tests.conftest import demo_application

    body = demo_application(template)
    body["external_ref"] = ref
    return body


def runs_by_case(stack: Stack) -> dict[int, list]:
    runs = defaultdict(list)
    for run in stack.flow_runs():
        case_id = run.parameters.get("case_id")
        if case_id is not None:
            runs[int(case_id)].append(run)
    return runs


def problems(stack: Stack, case_ids, *, expect: str) -> list[str]:
    """What is wrong with the cases, [] when every one is where it should be.

    expect "gate": waiting for a decision, one material, one open request, its flow run
    Paused. expect "decided": decided, one letter, its flow run Completed. In both, every
    other run of the case ended badly (replaced, never running beside it), and no Prefect
    command of the case is still pending.
    """
    from approvals.models import ApprovalRequest, Case, Document, Material, PrefectCommand

    found = []
    cases = {c.pk: c for c in Case.objects.filter(pk__in=case_ids)}
    runs = runs_by_case(stack)
    materials = Counter(Material.objects.filter(case__in=case_ids).values_list("case", flat=True))
    requests = Counter(
        ApprovalRequest.objects.filter(case__in=case_ids).values_list("case", flat=True)
    )
    open_requests = Counter(
        ApprovalRequest.objects.filter(case__in=case_ids, status="open").values_list(
            "case", flat=True
        )
    )
    letters = Counter(
        Document.objects.filter(case__in=case_ids, kind="decision_letter").values_list(
            "case", flat=True
        )
    )
    pending = Counter(
        PrefectCommand.objects.filter(case__in=case_ids, status="pending").values_list(
            "case", flat=True
        )
    )
    for pk in case_ids:
        case = cases.get(pk)
        if case is None:
            found.append(f"case {pk} lost")
            continue
        if materials[pk] != 1 or requests[pk] != 1:
            found.append(f"case {pk}: {materials[pk]} materials, {requests[pk]} requests")
        if pending[pk]:
            found.append(f"case {pk}: {pending[pk]} Prefect commands pending")
        states = {str(r.id): r.state.type.value if r.state else "NONE" for r in runs[pk]}
        current = states.get(str(case.flow_run_id))
        others = [s for run_id, s in states.items() if run_id != str(case.flow_run_id)]
        if any(s not in BAD_ENDS for s in others):
            found.append(f"case {pk}: other runs {others} beside {current}")
        if expect == "gate":
            if case.status != Case.Status.AWAITING_DECISION or open_requests[pk] != 1:
                found.append(f"case {pk}: {case.status}, {open_requests[pk]} open requests")
            if current != "PAUSED":
                found.append(f"case {pk}: run {current}")
        else:
            if case.status != Case.Status.DECIDED or letters[pk] != 1:
                found.append(f"case {pk}: {case.status}, {letters[pk]} letters")
            if current != "COMPLETED":
                found.append(f"case {pk}: run {current}")
    return found


def wait_recovered(stack: Stack, case_ids, *, expect: str, since: float, timeout: float) -> float:
    """Wait until problems() is empty; the seconds from `since` (a monotonic time)."""
    deadline = time.monotonic() + timeout
    said = time.monotonic()
    while True:
        found = problems(stack, case_ids, expect=expect)
        if not found:
            return time.monotonic() - since
        if time.monotonic() - said > 15:
            said = time.monotonic()
            print(f"[faults] {time.monotonic() - since:.0f} s: {len(found)} left, e.g. {found[:3]}")
        if time.monotonic() > deadline:
            logs = "\n".join(
                f"--- {name}.log ---\n{stack.log_tail(name, 2500)}"
                for name in ("outbox", "watchdog", "worker")
            )
            raise AssertionError(
                f"not recovered after {timeout:.0f} s ({len(found)} problems):\n"
                + "\n".join(found[:20])
                + "\n"
                + logs
            )
        time.sleep(1)


def report(name: str, seconds: float, **figures) -> None:
    extra = ", ".join(f"{k}={v}" for k, v in figures.items())
    print(f"\n[faults] {name}: recovered in {seconds:.1f} s after the restart ({extra})")
