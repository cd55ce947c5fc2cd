"""Shared fixtures: the demo organisation, applications, and cases compiled without Prefect."""

import copy
import json
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from municipality.demo import DEMO_INTEGRATION_TOKEN, demo_organisation_load

ROOT = Path(__file__).resolve().parent.parent
DEMO_APPLICATIONS = ROOT / "data" / "demo_applications"
PREFECT_DEPLOYMENT = "ekonomiskt-bistand/ekonomiskt-bistand"


@pytest.fixture(autouse=True)
def _no_prefect_calls_by_default(settings, tmp_path):
    """Unit tests never reach Prefect; e2e tests switch this back on."""
    settings.PREFECT_START_ON_COMMIT = False
    # Each test's own anchor file (never the demo's in state/).
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"
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
    monkeypatch.setattr("approvals.services.robot.html_to_pdf", lambda html: TINY_PDF)
    monkeypatch.setattr("approvals.services.documents.html_to_pdf", lambda html: TINY_PDF)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The demo organisation, built once per test database (each test rolls back to it).

    Transactional tests empty the tables when they end; pytest-django runs them after
    the others, and the `org` fixture builds the organisation again for them.
    """
    with django_db_blocker.unblock():
        demo_organisation_load()
        role = _app_role_switch()
    yield
    if role:
        _app_role_switch_back()


@pytest.fixture
def owner_session(transactional_db):
    """For a transactional test that migrates: its connection acts as the owner."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET ROLE NONE")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def _app_role_name(database: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", f"rf_app_{database}".lower())[:63]


def _flush_as_owner(execute_sql_flush):
    """Transactional tests end with Django's flush (TRUNCATE), which the app role may not
    do: the harness empties the tables as the owner, as a deployment's migrate step would."""

    def flush(self, sql_list):
        with self.connection.cursor() as cursor:
            cursor.execute("SET ROLE NONE")
        try:
            return execute_sql_flush(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("RESET ROLE")

    flush.original = execute_sql_flush
    return flush


def _app_role_switch() -> str | None:
    """After migrating as the owner, every connection of the suite and of the processes it
    starts (via `runtime.database_env`) acts as an app role made by `db_grant_app_role`:
    no TRUNCATE, ALTER, trigger control or replica mode (issue 10, point 5)."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.backends.postgresql.operations import DatabaseOperations

    if connection.vendor != "postgresql":
        return None
    role = _app_role_name(connection.settings_dict["NAME"])
    call_command("db_grant_app_role", role=role, verbosity=0)
    options = f"-c role={role}"
    connection.close()
    django_settings.DATABASES["default"].setdefault("OPTIONS", {})["options"] = options
    connection.settings_dict.setdefault("OPTIONS", {})["options"] = options
    DatabaseOperations.execute_sql_flush = _flush_as_owner(DatabaseOperations.execute_sql_flush)
    return role


def _app_role_switch_back() -> None:
    """The test database is dropped by the owner."""
    from django.db import connection
    from django.db.backends.postgresql.operations import DatabaseOperations

    connection.close()
    for options in (
        django_settings.DATABASES["default"]["OPTIONS"],
        connection.settings_dict["OPTIONS"],
    ):
        options.pop("options", None)
    DatabaseOperations.execute_sql_flush = DatabaseOperations.execute_sql_flush.original


def _org_from_database() -> dict:
    """The demo organisation's dict, its users read fresh (tests may change them)."""
    from django.contrib.auth.models import User

    from approvals.registry import registry
    from municipality.models import Unit

    units = {u.code: u for u in Unit.objects.filter(code__in=[p.unit_code for p in registry.all()])}
    org = {
        "users": {u.username: u for u in User.objects.all()},
        "units": {p.slug: units[p.unit_code] for p in registry.all() if p.unit_code in units},
        "token": DEMO_INTEGRATION_TOKEN,
    }
    # Most tests of the demo organisation work in bistånd's unit.
    org["unit"] = org["units"].get("ekonomiskt-bistand")
    return org


@pytest.fixture
def org(request, db):
    """The demo organisation (built once per session; again for transactional tests)."""
    from django.contrib.auth.models import User

    if not User.objects.filter(username="anna").exists():
        demo_organisation_load()
    return _org_from_database()


@pytest.fixture(scope="session", autouse=True)
def _core_process_templates():
    """The test-only process's templates (tests/core_process) are found like a package's."""
    from django.test.utils import override_settings
    from django.urls import get_resolver

    from tests.core_process.process import TEMPLATE_DIR

    # The URLconf mounts each registered process's flows/<pkg>/urls.py and api.py when it
    # is first imported; load it before a test registers the test process, whose package
    # (tests/core_process) is not under flows/ and would fail that import.
    get_resolver().url_patterns  # noqa: B018 - importing the URLconf is the point
    engine = {**django_settings.TEMPLATES[0]}
    engine["DIRS"] = [*engine["DIRS"], TEMPLATE_DIR]
    override = override_settings(TEMPLATES=[engine])
    override.enable()
    yield
    override.disable()


@pytest.fixture
def register_process():
    """Register a process declaration for one test; it is removed again afterwards."""
    from approvals.registry import registry

    added = []

    def register(spec):
        registry.register(spec)
        added.append(spec.slug)
        return spec

    yield register
    for slug in added:
        registry.unregister(slug)


@pytest.fixture
def core_org(db, register_process):
    """The test-only process registered, with its unit, two delegates and an integration account.

    kim: caseworker, delegation up to 10 000; lo: team leader, no limit; core-system:
    integration account (token CORE_TOKEN).
    """
    from datetime import date

    from django.contrib.auth.models import Group, User

    from municipality.models import ApiToken, Delegation, Staff, Unit, unit_group_name
    from tests.core_process.process import DECISION_TYPE, SPEC, UNIT

    register_process(SPEC)
    unit = Unit.objects.create(code=UNIT, name="Testenheten", committee="Testnämnden")
    group = Group.objects.create(name=unit_group_name(unit))
    users = {}
    for username, kind, role in (
        ("kim", Staff.Kind.HUMAN, Staff.Role.CASEWORKER),
        ("lo", Staff.Kind.HUMAN, Staff.Role.TEAM_LEADER),
        ("core-system", Staff.Kind.INTEGRATION, Staff.Role.SYSTEM),
    ):
        user = User.objects.create_user(username, first_name=username.title(), password="x")
        Staff.objects.create(user=user, unit=unit, kind=kind, role=role, title=role)
        if kind == Staff.Kind.HUMAN:
            user.groups.add(group)
        users[username] = user
    Delegation.objects.create(
        unit=unit,
        decision_type=DECISION_TYPE,
        role=Staff.Role.CASEWORKER,
        max_amount=10_000,
        valid_from=date(2026, 1, 1),
        reference="TN 1.1",
    )
    Delegation.objects.create(
        unit=unit,
        decision_type=DECISION_TYPE,
        role=Staff.Role.TEAM_LEADER,
        max_amount=None,
        valid_from=date(2026, 1, 1),
        reference="TN 1.2",
    )
    ApiToken.objects.create(
        user=users["core-system"], name="core", token_sha256=ApiToken.hash(CORE_TOKEN)
    )
    return {"unit": unit, "users": users, "spec": SPEC, "token": CORE_TOKEN}


CORE_TOKEN = "rf_core_test_token"


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
    from flows.ekonomiskt_bistand.schemas import ApplicationV1

    validated = ApplicationV1.model_validate(application).model_dump(mode="json")
    case, _ = services.application_receive(
        raw_body=json.dumps(application), application=validated, received_by=org["users"]["etjanst"]
    )
    return case


def compile_case(case):
    """Run the robot steps up to the gate, in-process, as the flow's tasks would."""
    from approvals.models import ApprovalRequest
    from flows.ekonomiskt_bistand import steps as service

    service.case_started(case_id=case.pk, flow_run_id="00000000-0000-0000-0000-000000000000")
    service.register_gather(case_id=case.pk, flow_run_id="test")
    version = case.materials.count() + 1
    opened = service.material_prepare(case_id=case.pk, version=version, flow_run_id="test")
    return ApprovalRequest.objects.select_related("material", "case").get(pk=opened.request_id)


@pytest.fixture
def core_request(core_org):
    """An approval request of the test-only process (tests/core_process), material compiled.

    Case "t-1", applicant 198507099805, proposal and authority amount 4 000, in the
    test unit (core_org: kim caseworker up to 10 000, lo team leader).
    """
    from tests.approvals.core_helpers import core_compile, core_open

    return core_compile(core_open(core_org))


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


def pytest_terminal_summary(terminalreporter):
    """The fault tests' times to recover (tests/faults), one line each, at the end of the run."""
    lines = []
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", []):
            if name == "recovery_seconds":
                lines.append(f"{report.nodeid}: recovered in {value} s")
    if lines:
        terminalreporter.write_sep("-", "time to recover")
        for line in lines:
            terminalreporter.write_line(line)
