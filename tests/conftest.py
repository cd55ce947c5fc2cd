"""Shared fixtures: the demo organisation, applications, and cases compiled without Prefect."""

import copy
import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from municipality.demo import DEMO_INTEGRATION_TOKEN, demo_organisation_load

ROOT = Path(__file__).resolve().parent.parent
DEMO_APPLICATIONS = ROOT / "data" / "demo_applications"
PREFECT_DEPLOYMENT = "ekonomiskt-bistand/ekonomiskt-bistand"


@pytest.fixture(autouse=True)
def _no_prefect_calls_by_default(settings):
    """Unit tests never reach Prefect; e2e tests switch this back on."""
    settings.PREFECT_START_ON_COMMIT = False
    settings.REGISTER_RETRY_DELAY_SECONDS = 0
    # Fast hashing for the many demo logins the tests create; production keeps PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# A one-page PDF: tests that use fast_pdf read the gate's hash of the HTML, never the PDF.
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture
def fast_pdf(monkeypatch):
    """Skip WeasyPrint for material and letter PDFs; the HTML, its hash and the gate are real."""
    monkeypatch.setattr("approvals.services.html_to_pdf", lambda html: TINY_PDF)


@pytest.fixture
def org(db):
    return demo_organisation_load()


@pytest.fixture
def token():
    return DEMO_INTEGRATION_TOKEN


def demo_application(name: str = "etj-2026-000101") -> dict:
    return json.loads((DEMO_APPLICATIONS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def application():
    return copy.deepcopy(demo_application())


@pytest.fixture
def api_post(client, token):
    def post(path: str, body, *, auth: str | None = token, content_type="application/json"):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        return client.post(path, data=data, content_type=content_type, headers=headers)

    return post


def receive(org, application: dict):
    from approvals import services
    from approvals.schemas import ApplicationV1

    validated = ApplicationV1.model_validate(application).model_dump(mode="json")
    case, _ = services.application_receive(
        raw_body=json.dumps(application), application=validated, received_by=org["users"]["etjanst"]
    )
    return case


def compile_case(case):
    """Run the robot steps up to the gate, in-process, as the flow's tasks would."""
    from approvals.models import ApprovalRequest
    from flows.bistand import service

    service.case_started(case_id=case.pk, flow_run_id="00000000-0000-0000-0000-000000000000")
    service.register_gather(case_id=case.pk, flow_run_id="test")
    version = case.materials.count() + 1
    opened = service.material_prepare(case_id=case.pk, version=version, flow_run_id="test")
    return ApprovalRequest.objects.select_related("material", "case").get(pk=opened.request_id)


@pytest.fixture
def open_request(org, application):
    """An approval request for the first demo application, material compiled."""
    return compile_case(receive(org, application))


def pytest_report_header(config):
    return f"database: {django_settings.DATABASES['default']['ENGINE']}"


def kr(amount: int) -> str:
    """An amount as the print templates write it, after whitespace is normalised: '4 285 kr'."""
    return f"{amount:,} kr".replace(",", " ")


def text_of(pdf: bytes) -> str:
    """A PDF's text with every run of whitespace (incl. no-break spaces) as one space."""
    from approvals.printing import pdf_text

    return " ".join(pdf_text(bytes(pdf)).split())


@pytest.fixture(scope="session")
def prefect_stack(django_db_setup, tmp_path_factory):
    """A real Prefect server (own home, SQLite database and result storage in a temporary
    folder) and a flow runner whose flow runs use the pytest-django test database.
    Shared by the end-to-end and the full-stack browser tests."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    from municipality import runtime

    home = tmp_path_factory.mktemp("prefect-home")
    port = runtime.free_port()
    env = {
        **runtime.prefect_env(home=home, port=port),
        **runtime.database_env(),
        "REGISTER_RETRY_DELAY_SECONDS": "0",
    }
    logs = Path(home)
    server = runtime.start_prefect_server(env=env, log=logs / "server.log", ui=False)
    runner = None
    try:
        runtime.wait_for_http(f"http://127.0.0.1:{port}/api/health", proc=server, timeout=120)
        with temporary_settings(
            updates={
                PREFECT_API_URL: env["PREFECT_API_URL"],
                PREFECT_API_AUTH_STRING: env["PREFECT_API_AUTH_STRING"],
            }
        ):
            runner = runtime.start_flow_runner(env=env, log=logs / "runner.log")
            runtime.wait_for_deployment(PREFECT_DEPLOYMENT, proc=runner, timeout=120)
            yield {"home": Path(home), "env": env, "url": env["PREFECT_API_URL"], "logs": logs}
    finally:
        if runner is not None:
            runtime.stop(runner)
        runtime.stop(server)
