"""The operators' robot catalogue with the test-only process: the figures, who gets in,
cost per page, nothing personal. Bistånd's version: tests/flows/ekonomiskt_bistand/."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals import operations, prefect_gateway, services
from approvals.models import (
    ApprovalRequest,
    Case,
    Decision,
    Material,
    PrefectCommand,
)
from approvals.operations import Health, Reason, process_catalogue, process_health
from approvals.registry import registry
from approvals.templatetags.casework import duration
from municipality.demo import OPERATORS_GROUP
from municipality.models import Delegation, Staff, Unit
from municipality.runtime import free_port
from tests.core_process.process import core_spec
from tests.gate_helpers import decide

from .core_helpers import core_carry_out, core_compile, core_open
from .inbox_helpers import clone_requests

# Material and letters need no real PDF here.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]

PROCESS = "core-test"
REAL_PREFECT_HEALTH = prefect_gateway.prefect_health

# Demo usernames that are ordinary words on the page ("per" as in "per månad").
SWEDISH_WORDS = {"per"}


@pytest.fixture(autouse=True)
def _prefect_not_asked(monkeypatch):
    """Pages do not depend on a Prefect server that may or may not run on this machine."""
    monkeypatch.setattr(prefect_gateway, "prefect_health", lambda: False)


def _timed(decision, *, robot: timedelta, human: timedelta) -> None:
    """Place the case's receipt and its request's opening so the durations are exact."""
    case = decision.request.case
    compiled = Material.objects.filter(case=case, version=1).values_list("created_at", flat=True)[0]
    Case.objects.filter(pk=case.pk).update(received_at=compiled - robot)
    ApprovalRequest.objects.filter(pk=decision.request_id).update(
        created_at=decision.signed_at - human
    )


def _at(when, monkeypatch, fn):
    """Run fn with the clock at `when` (for audit events, whose time the trail sets)."""
    with monkeypatch.context() as m:
        m.setattr("django.utils.timezone.now", lambda: when)
        fn()


@pytest.fixture
def fleet(crew, core_org, monkeypatch):
    """Five test-process cases in every state, two decided with known times, outbox rows.

    A: decided, approved as proposed; robot 1 h, human 30 min.
    B: decided, refused (changed from the proposal); robot 3 h, human 90 min.
    C: open request; the robot failed after opening it (the request stays open).
    D: returned for completion.
    E: received 40 days ago and stopped by a robot failure; an older failure (40 days)
       is outside the window.
    Outbox: every command delivered, except one pending for two hours and one dead.
    """
    users = crew
    now = timezone.now()
    a, b, c, d, e = (core_open(core_org, ref=f"t-00010{i}") for i in range(1, 6))
    request_a, request_b, request_c, request_d = (core_compile(x) for x in (a, b, c, d))
    decision_a = core_carry_out(decide(request_a, users["lo"]))
    decision_b = core_carry_out(
        decide(
            request_b,
            users["lo"],
            outcome="refused",
            motivation="Underlaget räcker inte.",
        )
    )
    _timed(decision_a, robot=timedelta(hours=1), human=timedelta(minutes=30))
    _timed(decision_b, robot=timedelta(hours=3), human=timedelta(minutes=90))
    core_carry_out(decide(request_d, users["kim"], outcome="returned", motivation="Intyg saknas."))
    services.case_flow_failed(case_id=c.pk, flow_run_id="run-c", reason="Crashed")
    _at(
        now - timedelta(days=40),
        monkeypatch,
        lambda: services.case_flow_failed(case_id=e.pk, flow_run_id="run-old", reason="Old"),
    )
    services.case_flow_failed(case_id=e.pk, flow_run_id="run-e", reason="Failed")
    Case.objects.filter(pk=e.pk).update(received_at=now - timedelta(days=40))
    PrefectCommand.objects.update(status=PrefectCommand.Status.DONE, delivered_at=now)
    PrefectCommand.objects.create(
        kind=PrefectCommand.Kind.START,
        case=e,
        payload={"case_id": e.pk},
        created_at=now - timedelta(hours=2),
    )
    PrefectCommand.objects.create(
        kind=PrefectCommand.Kind.RESUME,
        case=c,
        payload={"run_input": {}},
        status=PrefectCommand.Status.DEAD,
        attempts=30,
    )
    return {"cases": [a, b, c, d, e], "decisions": [decision_a, decision_b]}


@pytest.fixture
def other_process(crew, register_process):
    """A second, non-authority process in another unit with two open requests and no trouble."""
    unit = Unit.objects.create(code="hemtj", name="Hemtjänsten", committee="Äldrenämnden")
    register_process(
        core_spec(
            slug="hemtjanst",
            name="Hemtjänst, förenklad",
            unit_code=unit.code,
            public_authority=False,
            minutes_saved_per_case=10,
        )
    )
    return unit


def _row(slug: str):
    return next(p for p in process_catalogue(now=timezone.now()) if p.slug == slug)


# --- the figures -------------------------------------------------------------------------


def test_volumes_count_cases_per_state_and_window(fleet):
    """Received in the window and in all, open requests, decided, returned and stopped."""
    row = _row(PROCESS)
    assert row.name == "Testprocess"
    assert row.unit_name == "Testenheten"
    assert row.public_authority is True
    assert (row.received_window, row.received_total) == (4, 5)
    assert row.open_requests == 1
    assert (row.decided_total, row.returned, row.stopped) == (2, 1, 1)


def test_health_counts_failures_in_window_and_outbox_trouble(fleet):
    """Failures older than the window are left out; a dead and a stuck command make it red."""
    row = _row(PROCESS)
    assert row.flow_failures_window == 2
    assert (row.commands_pending, row.commands_dead) == (1, 1)
    assert 2 * 3600 - 60 < row.oldest_pending_seconds < 2 * 3600 + 60
    assert row.health.level == Health.RED
    assert set(row.health.reasons) == {
        Reason.CASES_STOPPED,
        Reason.COMMANDS_DEAD,
        Reason.COMMANDS_STUCK,
        Reason.RECENT_FAILURES,
    }


def test_medians_share_and_time_saved_over_decided_cases(fleet):
    """Medians of robot (1 h, 3 h) and human (30, 90 min) time; one of two followed the proposal."""
    row = _row(PROCESS)
    assert row.decided_window == 2
    assert row.median_robot_seconds == pytest.approx(2 * 3600, abs=1)
    assert row.median_human_seconds == pytest.approx(3600, abs=1)
    assert row.followed_proposal_share == 0.5
    # 2 decided cases × 7 minutes (the test process's declaration).
    assert row.hours_saved_total == pytest.approx(14 / 60)
    assert row.hours_saved_window == pytest.approx(14 / 60)


def test_decided_cases_outside_the_window_count_in_all_only(fleet):
    """A case decided 40 days ago saves time in all but is left out of the window's medians."""
    decision_a = fleet["decisions"][0]
    Case.objects.filter(pk=decision_a.request.case_id).update(
        decided_at=timezone.now() - timedelta(days=40)
    )
    row = _row(PROCESS)
    assert row.decided_total == 2 and row.decided_window == 1
    assert row.median_human_seconds == pytest.approx(90 * 60, abs=1)
    assert row.followed_proposal_share == 0.0


def test_each_process_has_its_own_row(fleet, other_process):
    """Cases are counted under their own process; a process without trouble is green."""
    template = fleet["decisions"][0].request
    clone_requests(template, 2, unit=other_process, prefix="hemtj", process="hemtjanst")
    row = _row("hemtjanst")
    assert (row.received_total, row.open_requests, row.decided_total) == (2, 2, 0)
    assert row.public_authority is False
    assert row.health == operations.ProcessHealth(level=Health.GREEN, reasons=())
    assert row.median_robot_seconds is None and row.followed_proposal_share is None
    assert _row(PROCESS).received_total == 5


def test_process_without_cases_shows_zeros(crew):
    """An empty catalogue row: zero volumes, no medians, green."""
    row = _row(PROCESS)
    assert (row.received_total, row.open_requests, row.decided_total, row.stopped) == (0, 0, 0, 0)
    assert row.median_human_seconds is None and row.oldest_pending_seconds is None
    assert row.health.level == Health.GREEN


@pytest.mark.parametrize(
    ("kwargs", "level", "reasons"),
    [
        ({}, Health.GREEN, ()),
        ({"oldest_pending_seconds": 60}, Health.GREEN, ()),
        ({"oldest_pending_seconds": 20 * 60}, Health.AMBER, (Reason.COMMANDS_WAITING,)),
        ({"oldest_pending_seconds": 61 * 60}, Health.RED, (Reason.COMMANDS_STUCK,)),
        ({"flow_failures_window": 1}, Health.AMBER, (Reason.RECENT_FAILURES,)),
        ({"commands_dead": 1}, Health.RED, (Reason.COMMANDS_DEAD,)),
        ({"stopped": 1}, Health.RED, (Reason.CASES_STOPPED,)),
    ],
)
def test_health_levels(kwargs, level, reasons):
    """Red when a person must act, amber to watch, green otherwise; each with its reason."""
    figures = {
        "stopped": 0,
        "flow_failures_window": 0,
        "commands_dead": 0,
        "oldest_pending_seconds": None,
    }
    health = process_health(**{**figures, **kwargs})
    assert (health.level, health.reasons) == (level, reasons)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "–"), (45, "45 s"), (12 * 60 + 5, "12 min"), (3 * 3600 + 300, "3 h 5 min")],
)
def test_duration_reads_in_english(seconds, text):
    """Durations are shown as precisely as a reader needs."""
    from django.utils import translation

    with translation.override("en"):
        assert duration(seconds) == text


# --- the page and the JSON ---------------------------------------------------------------


def test_operator_sees_the_catalogue_in_swedish(client, fleet, crew):
    """Otto gets the three tables with Swedish numbers, status words and Prefect unreachable."""
    client.force_login(crew["otto"])
    response = client.get(reverse("approvals:operations"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Robotkatalog" in html
    assert "<caption>" in html and 'scope="row"' in html and 'scope="col"' in html
    assert "Åtgärd krävs" in html  # "Needs action": words, not colour alone
    assert "inte nåbar" in html  # Prefect unreachable
    assert "0,2" in html  # hours saved, Swedish decimal comma
    assert "50\xa0%" in html  # followed the proposal
    assert "2 tim 0 min" in html  # median robot time
    assert 'aria-current="page"' in html and reverse("approvals:operations") in html


def test_prefect_reachability_is_shown(client, crew, monkeypatch):
    """With Prefect answering, the page says it is reachable."""
    monkeypatch.setattr(prefect_gateway, "prefect_health", lambda: True)
    client.force_login(crew["otto"])
    response = client.get(reverse("approvals:operations"))
    assert response.status_code == 200
    assert "Prefect (robotarnas plattform):</strong>\n  nåbar" in response.content.decode()


def test_json_has_the_same_figures(client, fleet, crew):
    """The JSON variant carries the figures per process, machine-readable."""
    client.force_login(crew["otto"])
    data = client.get(reverse("approvals:operations_json")).json()
    assert data["window_days"] == 30 and data["prefect"] == {"reachable": False}
    [process] = [p for p in data["processes"] if p["slug"] == PROCESS]
    assert process["slug"] == PROCESS and process["human_signs_every_decision"] is True
    assert process["volumes"] == {
        "received_last_window": 4,
        "received_total": 5,
        "open_requests": 1,
        "decided_total": 2,
        "returned_for_completion": 1,
        "stopped": 1,
    }
    assert process["health"]["status"] == "red"
    assert process["health"]["commands_dead"] == 1
    assert process["times"]["median_robot_seconds"] == 7200
    assert process["times"]["median_human_seconds"] == 3600
    assert process["times"]["followed_proposal_share"] == 0.5
    assert process["time_saved"] == {
        "minutes_per_case": 7,
        "hours_total": 0.2,
        "hours_last_window": 0.2,
    }


def test_json_and_page_hold_no_personnummer_or_names(client, fleet, crew):
    """Only process-level aggregates: no personnummer, no applicant, no staff name."""
    client.force_login(crew["otto"])
    secrets = set()
    for case in fleet["cases"]:
        secrets.update(services.party_personnummer(case))
        applicant = case.payload["applicant"]
        secrets.update({applicant["personnummer"], applicant["name"], *applicant["name"].split()})
        secrets.add(case.external_ref)
    for user in crew.values():
        if user.staff.kind == Staff.Kind.HUMAN:
            # A person is named by first and last name together; a short first name or
            # username alone ("Per", "Eva") is also an ordinary Swedish word or syllable.
            secrets.update({user.get_full_name(), user.username} - {""})
    secrets.update(Decision.objects.values_list("signer_name", flat=True))
    body = client.get(reverse("approvals:operations_json")).content.decode()
    page = client.get(reverse("approvals:operations")).content.decode()
    page_main = page.split('<main id="main"', 1)[1]  # the header names the logged-in user
    # Whole words: the test unit's short names ("lo", "kim") occur inside ordinary words.
    for secret in secrets:
        word = re.compile(rf"\b{re.escape(secret.lower())}\b")
        if len(secret) <= 3 or secret.lower() in SWEDISH_WORDS:
            continue
        assert not word.search(body.lower()), secret
        assert not word.search(page_main.lower()), secret
    pnr_like = [s for s in secrets if s.isdigit() and len(s) == 12]
    assert pnr_like  # the check above did look for personnummer


# --- who gets in -------------------------------------------------------------------------

URLS = ["approvals:operations", "approvals:operations_json"]


@pytest.mark.parametrize("name", URLS)
def test_anonymous_visitor_is_sent_to_login(client, crew, name):
    """Without a login both variants redirect to the login page."""
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", URLS)
@pytest.mark.parametrize("username", ["kim", "kai", "lo", "greta", "uno"])
def test_staff_without_the_grant_are_refused(client, crew, username, name):
    """Caseworkers, the team leader, the auditor and the unit administrator get 403."""
    client.force_login(crew[username])
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", URLS)
def test_integration_account_is_refused_even_in_the_operators_group(client, crew, name):
    """A machine account never reads the catalogue, whatever group it was put in."""
    core_system = crew["core-system"]
    core_system.groups.add(Group.objects.get(name=OPERATORS_GROUP))
    client.force_login(core_system)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", URLS)
def test_superuser_without_the_grant_is_refused(client, crew, django_user_model, name):
    """The superuser flag grants nothing here."""
    boss = django_user_model.objects.create_superuser("boss", password="x")
    Staff.objects.create(user=boss, kind=Staff.Kind.HUMAN, role=Staff.Role.CASEWORKER)
    client.force_login(boss)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", URLS)
def test_operator_gets_in(client, crew, name):
    """Otto, in the operators group, gets both variants."""
    client.force_login(crew["otto"])
    assert client.get(reverse(name)).status_code == 200


def test_direct_grant_lets_a_person_in(client, crew):
    """The grant held directly, without the group, is enough for a human employee."""
    lo = crew["lo"]
    lo.user_permissions.add(
        Permission.objects.get(content_type__app_label="municipality", codename="view_operations")
    )
    client.force_login(lo)
    assert client.get(reverse("approvals:operations")).status_code == 200


def test_inactive_operator_is_refused(client, crew):
    """A deactivated operator's session opens nothing."""
    otto = crew["otto"]
    client.force_login(otto)
    otto.is_active = False
    otto.save(update_fields=["is_active"])
    response = client.get(reverse("approvals:operations"))
    assert response.status_code in (302, 403)


def test_menu_link_only_for_operators(client, crew):
    """The "Robots" link shows for the operator and not for a caseworker."""
    url = reverse("approvals:operations")
    client.force_login(crew["otto"])
    assert f'href="{url}"' in client.get(reverse("approvals:inbox")).content.decode()
    client.force_login(crew["kim"])
    assert f'href="{url}"' not in client.get(reverse("approvals:inbox")).content.decode()


# --- cost per page -----------------------------------------------------------------------


def _bulk_fleet(template: ApprovalRequest, n: int, *, prefix: str) -> None:
    """n cases like the template: half decided with a signed decision, the rest failed or open,
    each with an outbox command and a robot failure on the trail."""
    requests = clone_requests(template, n, prefix=prefix)
    delegation = Delegation.objects.filter(unit=template.unit, role=Staff.Role.TEAM_LEADER).first()
    signer = Staff.objects.get(unit=template.unit, role=Staff.Role.TEAM_LEADER).user
    now = timezone.now()
    decided = requests[: n // 2]
    Decision.objects.bulk_create(
        [
            Decision(
                request=r,
                outcome=Decision.Outcome.APPROVED,
                authority_amount=r.authority_amount,
                signer=signer,
                signer_name="x",
                signer_title="x",
                delegation=delegation,
                signed_at=now,
                material=r.material,
                material_sha256=r.material.sha256,
                material_opened_at=now,
                followed_proposal=True,
                grants_amount=True,
                # Carried out: a case is "decided" only with a verified decision (trigger).
                verified_at=now,
                executed_at=now,
            )
            for r in decided
        ]
    )
    ApprovalRequest.objects.filter(pk__in=[r.pk for r in decided]).update(
        status=ApprovalRequest.Status.DECIDED
    )
    Case.objects.filter(pk__in=[r.case_id for r in decided]).update(
        status=Case.Status.DECIDED, decided_at=now
    )
    PrefectCommand.objects.bulk_create(
        [
            PrefectCommand(
                kind=PrefectCommand.Kind.START,
                case_id=r.case_id,
                payload={},
                status=PrefectCommand.Status.DEAD if i % 2 else PrefectCommand.Status.PENDING,
            )
            for i, r in enumerate(requests)
        ]
    )
    for r in requests[n // 2 :]:
        services.case_flow_failed(case_id=r.case_id, flow_run_id="run", reason="x")


def _queries(client, name: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse(name)).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_cases(client, core_request, crew, other_process):
    """The page and the JSON read the same number of queries for 2 cases as for 20."""
    client.force_login(crew["otto"])
    _bulk_fleet(core_request, 2, prefix="few")
    few = {name: _queries(client, name) for name in URLS}
    _bulk_fleet(core_request, 18, prefix="many")
    clone_requests(core_request, 5, unit=other_process, prefix="hemtj", process="hemtjanst")
    assert Case.objects.count() >= 26
    many = {name: _queries(client, name) for name in URLS}
    assert few == many
    # A fixed set: the aggregates, the units, the stopped robots, and up to two counts for
    # each process that counts its own units of work (hook automation).
    own_counting = sum(1 for p in registry.all() if p.hook("automation"))
    assert many["approvals:operations"] <= 16 + 2 * own_counting


def test_prefect_health_is_false_when_prefect_is_not_there():
    """An unreachable or unconfigured Prefect reads as False, quickly and without raising."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        assert REAL_PREFECT_HEALTH() is False
    with temporary_settings(updates={PREFECT_API_URL: None}):
        assert REAL_PREFECT_HEALTH() is False


def test_page_survives_an_unreachable_prefect(client, crew, monkeypatch):
    """With the real health check against a closed port both variants say "unreachable"."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setattr(prefect_gateway, "prefect_health", REAL_PREFECT_HEALTH)
    client.force_login(crew["otto"])
    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        response = client.get(reverse("approvals:operations"))
        data = client.get(reverse("approvals:operations_json")).json()
    assert response.status_code == 200
    assert "inte nåbar" in response.content.decode()
    assert data["prefect"]["reachable"] is False
