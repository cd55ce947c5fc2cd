"""Back-pressure at intake (issue 16): with the robots behind, a new application is refused
at once with 503 and Retry-After in the one refusal shape, nothing stored; an application
already accepted is still answered 200; and a lock the intake transaction cannot get
within its budget ends in 503, not in a request that hangs."""

import json
import threading
import time

import pytest
from django.db import connection, connections, transaction

from approvals import services
from approvals.models import Case, PrefectCommand, RejectedSubmission
from tests.core_process.process import SLUG

from .core_helpers import APPLICANT, core_open

URL = "/api/v1/applications/"
pytestmark = pytest.mark.django_db


def body(ref: str, amount: int = 900) -> dict:
    return {"process": SLUG, "external_ref": ref, "applicant": dict(APPLICANT), "amount": amount}


@pytest.fixture
def post(core_org, api_post):
    def send(data):
        return api_post(URL, data, auth=core_org["token"])

    return send


def test_the_backlog_counts_cases_still_with_the_robots(core_org, settings):
    """Received (start not delivered) and processing (robot working) count; a case waiting
    for a person does not. At the limit intake is saturated; 0 turns the rule off."""
    settings.INTAKE_BACKLOG_LIMIT = 3
    received = core_open(core_org, ref="b-1", started=False)
    core_open(core_org, ref="b-2")  # processing
    waiting = core_open(core_org, ref="b-3")
    Case.objects.filter(pk=waiting.pk).update(status=Case.Status.AWAITING_DECISION)
    assert received.status == Case.Status.RECEIVED
    assert services.intake_backlog() == 2
    assert services.intake_saturation() is None
    core_open(core_org, ref="b-4", started=False)
    saturated = services.intake_saturation()
    assert saturated is not None and saturated.code == services.INTAKE_SATURATED
    assert saturated.retry_after == settings.INTAKE_RETRY_AFTER_SECONDS
    assert "3 cases are waiting for the robots (limit 3)" in saturated.message
    settings.INTAKE_BACKLOG_LIMIT = 0
    assert services.intake_saturation() is None


def test_saturated_intake_refuses_a_new_application_with_503_and_retry_after(
    post, core_org, settings
):
    """Over the limit: 503, Retry-After, the refusal shape, the body kept as a refusal; no
    case and no flow start are stored."""
    settings.INTAKE_BACKLOG_LIMIT = 2
    settings.INTAKE_RETRY_AFTER_SECONDS = 17
    assert post(body("s-1")).status_code == 201
    assert post(body("s-2")).status_code == 201
    started = time.perf_counter()
    response = post(body("s-3"))
    assert time.perf_counter() - started < 2
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "17"
    assert list(response.json()) == ["errors"]
    assert "saturated" in response.json()["errors"]["service"][0]
    assert not Case.objects.filter(external_ref="s-3").exists()
    assert PrefectCommand.objects.count() == 2
    kept = RejectedSubmission.objects.get()
    assert json.loads(kept.raw_body)["external_ref"] == "s-3"
    assert kept.errors == response.json()["errors"]


def test_saturated_intake_still_answers_repeats_of_accepted_applications(post, settings):
    """An identical repeat of an accepted application gets 200 with its case even when
    saturated (an accepted application is never reported lost); a changed one is still 409."""
    settings.INTAKE_BACKLOG_LIMIT = 1
    first = post(body("r-1"))
    assert first.status_code == 201
    assert post(body("r-2")).status_code == 503
    repeat = post(body("r-1"))
    assert repeat.status_code == 200 and repeat.json()["id"] == first.json()["id"]
    assert "Retry-After" not in repeat
    assert post(body("r-1", amount=901)).status_code == 409
    assert Case.objects.count() == 1


def test_once_the_robots_catch_up_the_refused_application_is_accepted(post, settings):
    """The refusal is for now: when the backlog falls under the limit, the same body is
    accepted and its robot queued."""
    settings.INTAKE_BACKLOG_LIMIT = 1
    accepted = post(body("c-1")).json()["id"]
    assert post(body("c-2")).status_code == 503
    Case.objects.filter(pk=accepted).update(status=Case.Status.AWAITING_DECISION)
    again = post(body("c-2"))
    assert again.status_code == 201
    assert PrefectCommand.objects.filter(case_id=again.json()["id"]).count() == 1


def test_the_openapi_schema_documents_the_503_and_retry_after(client, core_org):
    schema = client.get("/api/v1/openapi.json").json()
    answer = schema["paths"]["/api/v1/applications/"]["post"]["responses"]["503"]
    assert "Retry-After" in answer["headers"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


@pytest.mark.django_db(transaction=True)
def test_a_lock_wait_past_the_budget_is_a_503_not_a_hanging_request(post, settings):
    """Another transaction holds the case table (as a long migration or a stuck writer
    would): intake gives up after INTAKE_LOCK_TIMEOUT_MS (real PostgreSQL lock_timeout),
    rolls back whole, and answers 503; once the lock is gone the same body is accepted."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's lock_timeout")
    settings.INTAKE_LOCK_TIMEOUT_MS = 300
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("LOCK TABLE approvals_case IN EXCLUSIVE MODE")
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        started = time.perf_counter()
        response = post(body("l-1"))
        elapsed = time.perf_counter() - started
    finally:
        release.set()
        holder.join(30)
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(settings.INTAKE_RETRY_AFTER_SECONDS)
    assert "lock within 300 ms" in response.json()["errors"]["service"][0]
    assert elapsed < 5
    assert not Case.objects.filter(external_ref="l-1").exists()
    assert PrefectCommand.objects.count() == 0
    assert post(body("l-1")).status_code == 201


def test_sqlites_busy_timeout_counts_as_a_lock_wait_past_the_budget():
    """The embedded demo's SQLite gives up a busy write with "database is locked": the same
    503 as PostgreSQL's lock_timeout; any other operational error stays an error."""
    from django.db import OperationalError

    from approvals.services.intake import _lock_budget_exceeded

    assert _lock_budget_exceeded(OperationalError("database is locked"))
    assert not _lock_budget_exceeded(OperationalError("no such table: approvals_case"))
