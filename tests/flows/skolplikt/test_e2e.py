"""End to end through a real Prefect server: the API scan opens cases, each case's flow run
compiles its material and suspends, a caseworker signs an injunction, the robot writes the
letters; and the scheduled deployment's scan run (no case) completes."""

import time

import pytest
from django.contrib.auth.models import User

from approvals.models import Case, Decision, Document
from municipality.demo import demo_organisation_load
from tests.conftest import text_of
from tests.e2e.conftest import wait_for, wait_for_state
from tests.gate_helpers import login_fresh

from .robot_helpers import (
    BO_LIND,
    JUNI_ABERG,
    case_of,
    demo_child,
    identifying_forms,
    run,
    source_with,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
BOUND_SECONDS = 90
MOTIVATION = "Ogiltig frånvaro varje vecka i november; skolans kontakter har inte hjälpt."


@pytest.fixture
def live(prefect_stack, settings, tmp_path):
    settings.PREFECT_START_ON_COMMIT = True
    demo_organisation_load()
    # Two children keep the test bounded: Bo (absence, two guardians) and Juni (protected).
    settings.SKOLPLIKT_SOURCE_DIR = str(source_with(tmp_path, children=[BO_LIND, JUNI_ABERG]))
    return prefect_stack


def wait_suspended(case: Case, live) -> Case:
    wait_for(lambda: Case.objects.get(pk=case.pk).flow_run_id, what="flow run id")
    case.refresh_from_db()
    wait_for_state(case.flow_run_id, {"PAUSED"}, logs=live["logs"])
    case.refresh_from_db()
    return case


def prefect_storage_text(home) -> str:
    return "\n".join(p.read_bytes().decode("latin-1") for p in home.rglob("*") if p.is_file())


def test_api_scan_to_signed_injunction_and_letters(live, api_post, client):
    """POST a scan → two case runs suspend at the gate → Sara signs an injunction on the case
    page → the run writes one letter per guardian and completes; nothing personal in Prefect."""
    started = time.monotonic()
    response = run(api_post)
    assert response.status_code == 201, response.content
    assert len(response.json()["opened"]) == 2

    bo = wait_suspended(case_of(BO_LIND), live)
    juni = wait_suspended(case_of(JUNI_ABERG), live)
    assert bo.status == juni.status == Case.Status.AWAITING_DECISION

    sara = User.objects.get(username="sara")
    login_fresh(client, sara)
    assert client.get(f"/cases/{bo.pk}/").status_code == 200
    material = bo.materials.get()
    assert client.get(f"/material/{material.pk}/").status_code == 200
    request = bo.requests.get(status="open")
    answer = client.post(
        f"/requests/{request.pk}/decide/",
        {"material_sha256": material.sha256, "outcome": "injunction", "motivation": MOTIVATION},
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    decision = Decision.objects.get(request=request)
    assert decision.signer == sara

    wait_for_state(bo.flow_run_id, {"COMPLETED"}, logs=live["logs"])
    bo.refresh_from_db()
    assert bo.status == Case.Status.DECIDED
    letters = list(Document.objects.filter(case=bo).order_by("pk"))
    guardians = [g["name"] for g in demo_child(BO_LIND)["guardians"]]
    assert len(letters) == len(guardians) == 2
    for letter, guardian in zip(letters, guardians, strict=True):
        text = text_of(letter.pdf)
        assert f"Till: {guardian}" in text
        assert MOTIVATION in text and "förvaltningsrätten" in text and "Sara Nord" in text

    # The scheduled deployment's run: no case, a month; July is not checked, so it opens
    # nothing and completes (the parameterless cron run takes the same path).
    from prefect.deployments import run_deployment

    scan_run = run_deployment(
        name="skolplikt/skolplikt", parameters={"month": "2026-07"}, timeout=0, _sync=True
    )
    wait_for_state(scan_run.id, {"COMPLETED"}, logs=live["logs"])
    assert Case.objects.filter(process="skolplikt").count() == 2

    stored = prefect_storage_text(live["home"])
    assert str(bo.flow_run_id) in stored
    for number in (BO_LIND, JUNI_ABERG):
        for form in identifying_forms(demo_child(number)):
            assert form not in stored, form
    assert time.monotonic() - started < BOUND_SECONDS
