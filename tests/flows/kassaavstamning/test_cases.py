"""Kassaavstämning wired into the core: import, difference cases, attest, return, reports.

The flow's steps run in-process here, as the flow's tasks would call them; the gate
(tests/gate_helpers.py) is the real one. tests/flows/kassaavstamning/test_e2e.py
drives the same through a real Prefect server.
"""

from datetime import UTC, date, datetime

import pytest

from approvals import services
from approvals.models import ApprovalRequest, AuditEvent, Case, Document, RejectedSubmission
from approvals.rules import DECISION_SIGNER_NOT_DELEGATED
from flows.kassaavstamning import steps
from flows.kassaavstamning.intake import ImportRefused, import_store
from flows.kassaavstamning.models import KassaImport
from flows.kassaavstamning.process import DECISION_TYPE, PROCESS
from tests.conftest import text_of
from tests.gate_helpers import FLOW_RUN_ID, decide, verify

from .helpers import PLANTED_REFS, demo_bytes, demo_files, post_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_material_pdf(monkeypatch):
    """Skip WeasyPrint for the material only: the documents' PDFs are read back as text."""
    from tests.conftest import TINY_PDF

    monkeypatch.setattr("approvals.services.robot.html_to_pdf", lambda html: TINY_PDF)


@pytest.fixture
def import_case(org, fast_material_pdf):
    row, created = import_store(
        files=demo_files(), source=KassaImport.Source.COMMAND, received_by=steps.robot_account()
    )
    assert created
    return row.case


@pytest.fixture
def reconciled(import_case):
    steps.case_started(case_id=import_case.pk, flow_run_id=FLOW_RUN_ID)
    outcome = steps.import_reconcile(case_id=import_case.pk, flow_run_id=FLOW_RUN_ID)
    return import_case, outcome


def difference_request(case: Case) -> ApprovalRequest:
    """Run a difference case's robot up to the gate, as its flow would."""
    steps.case_started(case_id=case.pk, flow_run_id=FLOW_RUN_ID)
    opened = steps.material_prepare(case_id=case.pk, flow_run_id=FLOW_RUN_ID)
    return ApprovalRequest.objects.select_related("material", "case").get(pk=opened.request_id)


def test_import_needs_an_integration_token(client, org):
    """Without a token, or with a wrong one, the endpoint answers 401 and stores nothing."""
    assert post_import(client, token=None).status_code == 401
    response = post_import(client, token="rf_wrong")
    assert response.status_code == 401
    assert "authorization" in response.json()["errors"]
    assert not KassaImport.objects.exists()


def test_import_malformed_file_is_400_naming_the_file(client, org):
    """A bank file that is not XML is refused with its field and the reader's error code;
    the body is kept, no case is opened."""
    data = demo_bytes()
    data["bank"] = b"<Document><BkToCstmrStmt>"
    response = post_import(client, data)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["bank"]
    assert errors["bank"][0].startswith("camt.053: not well-formed XML")
    assert errors["bank"][0].endswith("[CAMT_NOT_XML]")
    kept = RejectedSubmission.objects.get(path="/api/v1/imports/")
    assert "BkToCstmrStmt" in kept.raw_body and "#FLAGGA" in kept.raw_body
    assert not Case.objects.filter(process=PROCESS.slug).exists()


def test_import_every_refused_file_is_reported(client, org):
    """Two bad files: both are named in one answer."""
    data = demo_bytes()
    data["ledger"] = b"#SIETYP 4\r\n"
    data["till"] = b"date;cash_point\n"
    errors = post_import(client, data).json()["errors"]
    assert "[SIE_" in errors["ledger"][0]
    assert "[TILL_" in errors["till"][0]
    assert "bank" not in errors


def test_import_missing_file_is_400(client, org):
    data = demo_bytes()
    del data["till"]
    errors = post_import(client, data).json()["errors"]
    assert errors == {"till": ["the Z-reports (CSV) is missing [IMPORT_MISSING_FILE]"]}


def test_import_is_idempotent(client, org, fast_pdf):
    """The same three files twice: one import, one case (201, then 200 with the same id)."""
    first = post_import(client)
    assert first.status_code == 201, first.content
    again = post_import(client)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    body = first.json()
    case = Case.objects.get(pk=body["id"])
    row = KassaImport.objects.get()
    assert case.external_ref == row.sha256 == body["external_ref"]
    assert case.data["kind"] == "import" and case.data["period"] == "2026-11"
    assert body["files"]["bank"]["sha256"] == row.bank_sha256
    assert bytes(row.ledger) == demo_bytes()["ledger"]
    assert case.received_by.username == "ekonomisystem"
    assert case.prefect_commands.filter(kind="start").count() == 1


def test_one_case_per_planted_difference_day(reconciled):
    """The demo month's six difference days become six cases, each opened by the robot."""
    import_case, outcome = reconciled
    cases = Case.objects.filter(process=PROCESS.slug, data__kind="difference")
    assert set(cases.values_list("external_ref", flat=True)) == PLANTED_REFS
    assert sorted(outcome["difference_cases"]) == sorted(cases.values_list("pk", flat=True))
    assert {c.received_by.username for c in cases} == {"kassarobot"}
    simhall = cases.get(external_ref="kassa-simhall-2026-11-12")
    assert simhall.data["difference_kinds"] == ["deposit_missing"]
    assert simhall.payload["z_reports"] and simhall.payload["takings"]["cash_net"] == 434800


def test_matched_days_close_as_robot_acts(reconciled):
    """Each matched or pending day is a robot step on the import case; the import case
    completes as the robot's act, with no decision."""
    import_case, outcome = reconciled
    import_case.refresh_from_db()
    assert import_case.status == Case.Status.COMPLETED
    events = AuditEvent.objects.filter(case=import_case, kind="robot.step")
    matched = [e for e in events if e.data["step"] == "day-matched"]
    pending = [e for e in events if e.data["step"] == "day-pending"]
    assert outcome["matched"] > 60 and len(matched) == outcome["matched"]
    assert len(pending) == outcome["pending"]
    assert AuditEvent.objects.filter(case=import_case, kind="case.completed_by_robot").exists()
    assert not import_case.requests.exists()
    # Reconciling again changes nothing.
    again = steps.import_reconcile(case_id=import_case.pk, flow_run_id=FLOW_RUN_ID)
    assert sorted(again["difference_cases"]) == sorted(outcome["difference_cases"])
    assert AuditEvent.objects.filter(case=import_case, kind="robot.step").count() == len(events)


def test_material_lists_takings_entries_vouchers_and_differences(reconciled):
    """The short deposit's material: the three days' deposit, the day's Z-report and voucher."""
    case = Case.objects.get(external_ref="kassa-bibliotek-2026-11-21")
    request = difference_request(case)
    assert request.kind == "decision" and request.decision_type == DECISION_TYPE
    assert request.authority_amount == 200  # 2 823,00 expected, 2 623,00 found
    html = request.material.html
    assert "DEP BIBL 2026-11-19 2026-11-20 2026-11-21" in html
    assert "Insättning med fel belopp" in html
    assert "BIBL-1" in html and "1910" in html
    case.refresh_from_db()
    assert case.status == Case.Status.AWAITING_DECISION


def test_attest_amount_rounds_oere_up(reconciled):
    """3 363,04 kr of a missing voucher is attested as 3 364 kr."""
    case = Case.objects.get(external_ref="kassa-bibliotek-2026-11-24")
    assert difference_request(case).authority_amount == 3364


def test_controller_attests_within_her_limit(reconciled, org):
    """karin attests the duplicated voucher (15 593 kr, under 50 000): the record names her."""
    case = Case.objects.get(external_ref="kassa-simhall-2026-11-17")
    request = difference_request(case)
    karin = org["users"]["karin"]
    decision = decide(request, karin, motivation="")
    assert decision.authority_amount == 15593 and decision.delegation.user == karin
    verify(decision)
    steps.decision_carry_out(decision_id=decision.pk, flow_run_id=FLOW_RUN_ID)
    case.refresh_from_db()
    assert case.status == Case.Status.DECIDED
    record = Document.objects.get(decision=decision)
    assert record.kind == Document.Kind.CERTIFICATE
    text = text_of(record.pdf)
    assert "Attest av kassadifferens" in text and "Karin Kassör" in text
    assert "15 593 kr" in text and "Dubbelbokförd verifikation" in text


def test_over_the_limit_is_refused_for_the_controller(reconciled, org):
    """A 60 000 kr difference: karin's line stops at 50 000, per (no limit) may attest."""
    import_case, _ = reconciled
    payload = {
        **Case.objects.get(external_ref="kassa-simhall-2026-11-12").payload,
        "date": "2026-11-13",
        "differences": [
            {
                "cash_point": "simhall",
                "date": "2026-11-13",
                "kind": "deposit_missing",
                "expected": 6_000_000,
                "found": 0,
                "detail": "ingen insättning",
            }
        ],
    }
    case, created = steps.difference_open(
        payload=payload, import_case_id=import_case.pk, flow_run_id=FLOW_RUN_ID
    )
    assert created
    request = difference_request(case)
    assert request.authority_amount == 60_000
    with pytest.raises(services.GateRefused) as refused:
        decide(request, org["users"]["karin"])
    assert refused.value.code == DECISION_SIGNER_NOT_DELEGATED
    decision = decide(request, org["users"]["per"])
    assert decision.authority_amount == 60_000


def test_returned_case_writes_the_question(reconciled, org):
    """Returned with a question: the case is returned and the cash point gets the question."""
    case = Case.objects.get(external_ref="kassa-simhall-2026-11-12")
    request = difference_request(case)
    question = "Var finns insättningen för den 12 november? Skicka insättningskvittot."
    decision = decide(request, org["users"]["karin"], outcome="returned", motivation=question)
    verify(decision)
    steps.decision_carry_out(decision_id=decision.pk, flow_run_id=FLOW_RUN_ID)
    case.refresh_from_db()
    assert case.status == Case.Status.RETURNED
    notice = Document.objects.get(case=case)
    assert notice.kind == Document.Kind.COMPLETION_REQUEST and notice.decision == decision
    text = text_of(notice.pdf)
    assert question in text and "Simhallen" in text
    # Carrying out again writes nothing new.
    steps.decision_carry_out(decision_id=decision.pk, flow_run_id=FLOW_RUN_ID)
    assert case.documents.count() == 1


def test_month_summary_per_cash_point(reconciled, org):
    """One report per cash point (and one for entries of none), each difference with the
    state of its case; written once."""
    import_case, _ = reconciled
    case = Case.objects.get(external_ref="kassa-reception-2026-11-10")
    decision = decide(difference_request(case), org["users"]["karin"])
    verify(decision)
    steps.decision_carry_out(decision_id=decision.pk, flow_run_id=FLOW_RUN_ID)
    documents = steps.month_reports_write(month="2026-11")
    assert len(documents) == 4
    assert {d.kind for d in documents} == {Document.Kind.REPORT}
    assert {d.case_id for d in documents} == {import_case.pk}
    reception = next(d for d in documents if "Kommunhusets reception" in d.title)
    text = text_of(reception.pdf)
    assert "2026-11-10" in text and "Beslutad" in text
    assert steps.month_reports_write(month="2026-11") == documents
    with pytest.raises(ValueError):
        steps.month_reports_write(month="2026-10")


def test_daily_run_imports_the_drop_folder_once(org, fast_pdf, tmp_path, settings):
    """The schedule imports the folder's files once, catches up a stale import and writes
    last month's reports once the statement covers the month."""
    for filename, data in demo_files().values():
        (tmp_path / filename).write_bytes(data)
    settings.KASSA_DROP_FOLDER = str(tmp_path)
    first = steps.daily_run(flow_run_id=FLOW_RUN_ID, today=date(2026, 12, 4))
    assert first["imported"] is not None and first["reports"] == []
    row = KassaImport.objects.get()
    assert row.reconciled_at is None  # its own flow run reconciles it
    # Received on the 4th, and its run never started.
    KassaImport.objects.update(received_at=datetime(2026, 12, 4, 7, 0, tzinfo=UTC))
    assert row.source == "folder" and row.case.received_by.username == "kassarobot"
    second = steps.daily_run(flow_run_id=FLOW_RUN_ID, today=date(2026, 12, 7))
    assert second["imported"] is None
    assert second["reconciled"] == row.case_id  # its own run never ran here
    assert len(second["reports"]) == 4
    assert (
        steps.daily_run(flow_run_id=FLOW_RUN_ID, today=date(2026, 12, 8))["reports"]
        == (second["reports"])
    )


def test_daily_run_reports_a_bad_drop_folder(org, tmp_path, settings):
    (tmp_path / "a.csv").write_text("x")
    settings.KASSA_DROP_FOLDER = str(tmp_path)
    result = steps.daily_run(flow_run_id=FLOW_RUN_ID)
    assert result["folder_refused"] == ["bank", "ledger"]
    with pytest.raises(ImportRefused):
        import_store(files={}, source="command", received_by=org["users"]["kassarobot"])


def test_small_import_has_one_matched_day_and_one_difference(client, org, fast_pdf):
    """The bounded import of the end-to-end and browser tests reconciles as intended."""
    from .helpers import small_import

    response = post_import(client, small_import())
    assert response.status_code == 201, response.content
    case_id = response.json()["id"]
    outcome = steps.import_reconcile(case_id=case_id, flow_run_id=FLOW_RUN_ID)
    assert (outcome["matched"], len(outcome["difference_cases"])) == (1, 1)
    case = Case.objects.get(pk=outcome["difference_cases"][0])
    assert case.external_ref == "kassa-bibliotek-2026-11-03"
    assert case.data["difference_kinds"] == ["deposit_missing"]


def test_inbox_row_shows_cash_point_day_kind_and_amount(client, reconciled, org):
    """karin's inbox lists the day's cash point, date, kind and amount, read from the
    case's data (the inbox loads no payloads)."""
    case = Case.objects.get(external_ref="kassa-simhall-2026-11-12")
    difference_request(case)
    client.force_login(org["users"]["karin"])
    page = client.get("/").content.decode()
    assert "Simhallen · 2026-11-12 · Insättning saknas · 4" in " ".join(page.split())
