"""End to end: an application becomes a human-signed, executed decision, through a real Prefect."""

import re

import pytest

from approvals.audit import audit_verify
from approvals.models import AuditEvent, Case, Decision, Document, PrefectCommand
from approvals.printing import pdf_text
from municipality.demo import demo_organisation_load
from tests.conftest import demo_application, kr, text_of
from tests.e2e.conftest import wait_for, wait_for_state
from tests.gate_helpers import login_fresh

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live(prefect_stack, settings):
    settings.PREFECT_START_ON_COMMIT = True
    settings.REGISTER_RETRY_DELAY_SECONDS = 0
    demo_organisation_load()
    return prefect_stack


@pytest.fixture
def org_for_inprocess(live, settings):
    settings.PREFECT_START_ON_COMMIT = False
    return demo_organisation_load()


def submit(api_post, name: str) -> Case:
    response = api_post("/api/v1/applications/", demo_application(name))
    assert response.status_code == 201, response.content
    return Case.objects.get(pk=response.json()["id"])


def wait_suspended(case: Case, live) -> Case:
    wait_for(lambda: Case.objects.get(pk=case.pk).flow_run_id, what="flow run id")
    case.refresh_from_db()
    wait_for_state(case.flow_run_id, {"PAUSED"}, logs=live["logs"])
    case.refresh_from_db()
    return case


def read_and_decide(client, user, case: Case, **form):
    login_fresh(client, user)
    assert client.get(f"/cases/{case.pk}/").status_code == 200
    material = case.materials.order_by("-version").first()
    assert client.get(f"/material/{material.pk}/").status_code == 200
    assert client.get(f"/material/{material.pk}/pdf/").status_code == 200
    request = case.requests.get(status="open")
    data = {"material_sha256": material.sha256, "motivation": "", **form}
    return client.post(f"/requests/{request.pk}/decide/", data)


def all_personnummer(application: dict) -> set[str]:
    numbers = {application["applicant"]["personnummer"]}
    numbers |= {c["personnummer"] for c in application.get("children", [])}
    if application.get("co_applicant"):
        numbers.add(application["co_applicant"]["personnummer"])
    numbers |= {a["personnummer"] for a in application.get("other_adults", [])}
    forms = set()
    for n in numbers:
        digits = re.sub(r"\D", "", n)
        forms |= {digits, f"{digits[:8]}-{digits[8:]}", digits[2:], f"{digits[2:8]}-{digits[8:]}"}
    return forms


def prefect_storage_text(home) -> str:
    chunks = []
    for path in home.rglob("*"):
        if path.is_file():
            chunks.append(path.read_bytes().decode("latin-1"))
    return "\n".join(chunks)


def test_application_to_signed_executed_decision(live, api_post, client):
    """Intake starts a flow that suspends; a signature resumes it; the letter names the signer."""
    case = wait_suspended(submit(api_post, "etj-2026-000101"), live)
    assert case.status == Case.Status.AWAITING_DECISION
    material = case.materials.get()
    assert "Beslutsunderlag" in pdf_text(bytes(material.pdf))

    anna = Case.objects.model._meta.apps.get_model("auth", "User").objects.get(username="anna")
    response = read_and_decide(client, anna, case, outcome="approved")
    assert response.status_code == 302
    decision = Decision.objects.get(request__case=case)
    assert decision.signer == anna and decision.material_sha256 == material.sha256

    wait_for_state(case.flow_run_id, {"COMPLETED"}, logs=live["logs"])
    case.refresh_from_db()
    assert case.status == Case.Status.DECIDED
    text = text_of(Document.objects.get(decision=decision).pdf)
    assert "Bifall" in text
    assert "Anna Lind" in text
    assert kr(decision.authority_amount) in text
    assert "överklaga" not in text  # fully approved: no appeal instructions needed

    kinds = list(AuditEvent.objects.filter(case=case).values_list("kind", flat=True))
    for kind in (
        "application.received",
        "flow.started",
        "robot.step",
        "material.compiled",
        "material.viewed",
        "decision.signed",
        "resume.delivered",
        "resume.verified",
        "document.created",
        "decision.executed",
    ):
        assert kind in kinds, kind
    assert audit_verify() is None

    # No personal data ever reached Prefect: database, logs, results.
    stored = prefect_storage_text(live["home"])
    assert str(case.flow_run_id) in stored  # the scan reads Prefect's real records
    application = demo_application("etj-2026-000101")
    for form in all_personnummer(application):
        assert form not in stored
    assert application["applicant"]["name"] not in stored


def test_refusal_letter_has_appeal_instructions(live, api_post, client):
    """A refusal is executed with a letter that tells how to appeal within three weeks."""
    case = wait_suspended(submit(api_post, "etj-2026-000102"), live)
    maria = Case.objects.model._meta.apps.get_model("auth", "User").objects.get(username="maria")
    read_and_decide(
        client,
        maria,
        case,
        outcome="refused",
        motivation="Hushållets inkomster täcker behovet enligt riksnormen.",
    )
    wait_for_state(case.flow_run_id, {"COMPLETED"}, logs=live["logs"])
    letter = Document.objects.get(case=case, kind="decision_letter")
    text = pdf_text(bytes(letter.pdf))
    assert "Avslag" in text
    assert "förvaltningsrätten" in text and "tre veckor" in text
    assert "Maria Holm" in text
    assert "Hushållets inkomster täcker behovet" in text


def test_forged_resume_through_prefect_api_executes_nothing(live, api_post, client):
    """Resuming the run directly with made-up decision ids is refused every time; the run
    waits again however many forged claims arrive (six here: more than any budget of
    refusals), and the real signature is still carried out afterwards (issue 10, point 6)."""
    from prefect.flow_runs import resume_flow_run

    case = wait_suspended(submit(api_post, "etj-2026-000104"), live)
    request = case.requests.get(status="open")
    for forged in range(1, 7):
        resume_flow_run(
            case.flow_run_id,
            run_input={
                "request_id": request.pk,
                "decision_id": 999990 + forged,
                "material_sha256": request.material.sha256,
            },
            _sync=True,  # the browser tests' Playwright loop may be running in this thread
        )
        wait_for(
            lambda forged=forged: (
                AuditEvent.objects.filter(case=case, kind="resume.rejected").count() == forged
            ),
            what=f"rejected resume {forged}",
            timeout=90,
        )
        wait_for_state(case.flow_run_id, {"PAUSED"}, logs=live["logs"])
    case.refresh_from_db()
    assert case.status == Case.Status.AWAITING_DECISION
    assert not Document.objects.filter(case=case, kind="decision_letter").exists()
    assert not Decision.objects.filter(request__case=case).exists()

    anna = Case.objects.model._meta.apps.get_model("auth", "User").objects.get(username="anna")
    read_and_decide(client, anna, case, outcome="approved")
    wait_for_state(case.flow_run_id, {"COMPLETED"}, logs=live["logs"])
    assert Document.objects.filter(case=case, kind="decision_letter").count() == 1


def test_resume_survives_prefect_being_unreachable(live, api_post, client):
    """With Prefect unreachable the signed decision waits in the outbox and is delivered later."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from approvals.prefect_gateway import commands_deliver_due
    from municipality.runtime import free_port

    case = wait_suspended(submit(api_post, "etj-2026-000105"), live)
    anna = Case.objects.model._meta.apps.get_model("auth", "User").objects.get(username="anna")
    dead = f"http://127.0.0.1:{free_port()}/api"
    with temporary_settings(updates={PREFECT_API_URL: dead}):
        read_and_decide(client, anna, case, outcome="approved")
    command = PrefectCommand.objects.get(case=case, kind="resume")
    assert command.status == "pending" and command.attempts == 1 and command.last_error
    assert Decision.objects.filter(request__case=case).count() == 1
    assert wait_for_state(case.flow_run_id, {"PAUSED"}) == "PAUSED"

    PrefectCommand.objects.filter(pk=command.pk).update(next_attempt_at=command.created_at)
    assert commands_deliver_due() == (1, 0)
    wait_for_state(case.flow_run_id, {"COMPLETED"}, logs=live["logs"])
    case.refresh_from_db()
    assert case.status == Case.Status.DECIDED


def test_flow_failure_is_recorded_and_decides_nothing(live, org_for_inprocess):
    """A flow run that cannot suspend (no deployment) fails; the case shows it and nothing is decided."""
    from flows.ekonomiskt_bistand.flow import ekonomiskt_bistand
    from tests.conftest import receive

    case = receive(org_for_inprocess, demo_application("etj-2026-000101"))
    state = ekonomiskt_bistand(case.pk, return_state=True)
    assert state.is_failed()
    case.refresh_from_db()
    event = AuditEvent.objects.filter(case=case, kind="robot.step", data__step="flow-failed").get()
    assert "deployment" in event.data["reason"]
    assert not Decision.objects.filter(request__case=case).exists()
    assert case.requests.get().status == "open"


def test_prefect_api_refuses_callers_without_the_credential(live):
    """Only processes given the API credential can reach Prefect's API (health is open)."""
    import httpx

    url = live["url"]
    assert httpx.get(f"{url}/health", timeout=5).status_code == 200
    assert httpx.post(f"{url}/flow_runs/filter", json={}, timeout=5).status_code == 401
    auth = tuple(live["env"]["PREFECT_API_AUTH_STRING"].split(":", 1))
    assert httpx.post(f"{url}/flow_runs/filter", json={}, auth=auth, timeout=5).status_code == 200
