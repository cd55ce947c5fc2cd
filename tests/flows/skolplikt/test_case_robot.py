"""A skolplikt case from the scan to the letters, in-process: material, pages, gate, letters."""

import json

import pytest

from approvals import services
from approvals.models import ApprovalRequest, AuditEvent, Case, Document
from flows.skolplikt import steps
from tests.conftest import TINY_PDF, text_of
from tests.gate_helpers import decide, verify

from .robot_helpers import BO_LIND, ELIAS_BERG, JUNI_ABERG, MONTH, case_of, demo_child

pytestmark = pytest.mark.django_db
RUN = "00000000-0000-0000-0000-0000000000aa"
MOTIVATION = "Bo har haft ogiltig frånvaro varje vecka i november trots skolans kontakter."


@pytest.fixture
def scanned(org):
    """The November demo scan, its cases opened by the robot account."""
    return steps.scan_and_open(month=MONTH, flow_run_id=RUN)


def compiled(number: str) -> ApprovalRequest:
    """The child's case, started and its material compiled, as the flow's tasks do."""
    case = case_of(number)
    steps.case_started(case_id=case.pk, flow_run_id=RUN)
    opened = steps.material_prepare(case_id=case.pk, flow_run_id=RUN)
    return ApprovalRequest.objects.select_related("material", "case").get(pk=opened.request_id)


@pytest.fixture
def letters_html(monkeypatch):
    """Skip WeasyPrint, keeping the HTML of every document and material rendered."""
    rendered = []

    def keep(html):
        rendered.append(html)
        return TINY_PDF

    monkeypatch.setattr("approvals.services.robot.html_to_pdf", keep)
    monkeypatch.setattr("approvals.services.documents.html_to_pdf", keep)
    return rendered


def test_absence_material_has_the_weekly_pattern_figures_and_rules(scanned, fast_pdf):
    """The absence report: figures, the pattern by week, the school, the rule version."""
    request = compiled(BO_LIND)
    material = request.material
    html = material.html
    assert request.case.status == Case.Status.AWAITING_DECISION
    assert request.decision_type == "skolplikt-utredning"
    assert "Frånvarorapport" in html
    for week in ("2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49"):
        assert week in html
    assert "Norrskolan" in html and "skolplikt-2026-01" in html
    assert "840 min (13.3 %)" in html  # 14 h unexcused of 105 h scheduled
    assert material.ruleset_version == "skolplikt-2026-01"
    assert material.proposal["kind"] == "absence"
    assert material.proposal["figures"]["unexcused_minutes"] == 840
    assert "Bo Lind" in html and "Britt Lind" in html and "Bengt Lind" in html
    assert material.summary == (
        "Bo Lind · Frånvaro över tröskelvärdet · ogiltig 13,3 %, total 13,3 %"
    )


def test_not_enrolled_material_is_an_investigation(scanned, fast_pdf):
    """A child enrolled nowhere gets the not-enrolled investigation, with no figures."""
    material = compiled(ELIAS_BERG).material
    assert "skolpliktigt barn utan skolplacering" in material.html
    assert "inte inskrivet i någon skola" in material.html
    assert material.proposal["kind"] == "not_enrolled" and material.proposal["figures"] is None


def test_earlier_cases_are_in_the_material(scanned, fast_pdf):
    """A child's earlier skolplikt case is listed in the new case's material and flags."""
    case = case_of(BO_LIND)
    earlier = {**case.payload, "month": "2026-10"}
    services.case_open(
        spec=steps.PROCESS,
        external_ref="skolplikt-2026-10-earlier",
        raw_body=json.dumps(earlier),
        payload=earlier,
        opened_by=steps.robot_account(),
    )
    material = compiled(BO_LIND).material
    assert "skolplikt-2026-10-earlier" in material.html
    assert any(f["code"] == "earlier_cases" for f in material.flags)


def test_protected_child_material_prints_no_address_and_warns(scanned, fast_pdf):
    """Protected identity: the material warns and prints no address; the summary names no one."""
    request = compiled(JUNI_ABERG)
    assert "Skyddade personuppgifter" in request.material.html
    assert request.material.flags[0]["code"] == "protected_identity"
    assert request.material.summary.startswith("Frånvaro över tröskelvärdet · ogiltig")
    assert "Juni" not in request.material.summary


def test_inbox_shows_names_but_never_a_protected_child(scanned, fast_pdf, client, org):
    """The unit's inbox names the children, except a protected one: no name, number,
    guardian, address or school of that child appears in the list."""
    for number in (BO_LIND, JUNI_ABERG):
        compiled(number)
    client.force_login(org["users"]["sara"])
    html = client.get("/?tab=unassigned").content.decode()
    assert "Bo Lind" in html
    assert "Skyddad identitet" in html
    juni = demo_child(JUNI_ABERG)
    case = case_of(JUNI_ABERG)
    school = case.payload["finding"]["placements"][0]["school"]["name"]
    for form in (juni["name"], JUNI_ABERG, JUNI_ABERG[:8] + "-" + JUNI_ABERG[8:], school):
        assert form not in html, form
    for guardian in juni["guardians"]:
        assert guardian["name"] not in html


def test_case_page_panel_shows_figures_pattern_reason_and_rules(scanned, fast_pdf, client, org):
    """The caseworker's case page: the reasons, the rule version, the figures and the weeks."""
    request = compiled(BO_LIND)
    client.force_login(org["users"]["sara"])
    html = client.get(f"/cases/{request.case_id}/").content.decode()
    assert "Frånvaro över tröskelvärdet" in html
    assert 'data-testid="skolplikt-ruleset">skolplikt-2026-01<' in html
    assert 'data-testid="skolplikt-unexcused">840 min (13.3 %)<' in html
    assert 'data-week="2026-W47"' in html


def test_other_units_staff_do_not_see_the_case(scanned, fast_pdf, client, org):
    """A caseworker of another unit (bistånd) gets 404 for a skolplikt case."""
    request = compiled(BO_LIND)
    client.force_login(org["users"]["anna"])
    assert client.get(f"/cases/{request.case_id}/").status_code == 404


def test_sara_signs_an_injunction_and_each_guardian_gets_a_letter(scanned, org, monkeypatch):
    """Sara (caseworker, delegation BSN 5.3.1) signs an injunction; after the gate's check the
    robot writes one letter per guardian (real PDFs), each addressed to that guardian, with
    the motivation and the appeal to förvaltningsrätten; the case closes as decided."""
    # The material's PDF is not read here; the letters are real WeasyPrint PDFs.
    monkeypatch.setattr("approvals.services.robot.html_to_pdf", lambda html: TINY_PDF)
    request = compiled(BO_LIND)
    sara = org["users"]["sara"]
    decision = decide(
        request,
        sara,
        outcome="injunction",
        motivation=MOTIVATION,
        decided={"vite": None, "from_date": "2027-01-07"},
    )
    assert decision.delegation.reference == "BSN 5.3.1"
    verify(decision, flow_run_id=RUN)
    hashes = steps.letters_write(decision_id=decision.pk, flow_run_id=RUN)
    case = Case.objects.get(pk=request.case_id)
    assert case.status == Case.Status.DECIDED
    letters = list(Document.objects.filter(case=case).order_by("pk"))
    assert [d.sha256 for d in letters] == hashes and len(letters) == 2
    assert letters[0].decision_id == decision.pk
    guardians = [g["name"] for g in demo_child(BO_LIND)["guardians"]]
    for letter, guardian in zip(letters, guardians, strict=True):
        text = text_of(letter.pdf)
        assert f"Till: {guardian}" in text
        assert "Föreläggande att se till att barnet fullgör sin skolplikt" in text
        assert "7 kap. 23 § skollagen" in text
        assert "från och med 7 januari 2027" in text
        assert MOTIVATION in text
        assert "förvaltningsrätten" in text and "tre veckor" in text
        assert "Sara Nord" in text and "BSN 5.3.1" in text
        assert "Britt Lind, Bengt Lind" in text
    assert letters[0].title == "Föreläggande, vårdnadshavare 1 av 2"
    assert AuditEvent.objects.filter(case=case, kind="decision.executed").count() == 1


def test_letters_are_written_once(scanned, org, fast_pdf):
    """A re-run of the letter step (a retried task) writes no second copy."""
    request = compiled(BO_LIND)
    decision = decide(request, org["users"]["sara"], outcome="injunction", motivation=MOTIVATION)
    verify(decision, flow_run_id=RUN)
    first = steps.letters_write(decision_id=decision.pk, flow_run_id=RUN)
    again = steps.letters_write(decision_id=decision.pk, flow_run_id=RUN)
    assert first == again
    assert Document.objects.filter(case=request.case).count() == 2


def test_letters_wait_for_the_gates_verification(scanned, org, fast_pdf):
    """Without the flow's verification after resume, no letter is written."""
    request = compiled(BO_LIND)
    decision = decide(request, org["users"]["sara"], outcome="injunction", motivation=MOTIVATION)
    with pytest.raises(services.GateRefused):
        steps.letters_write(decision_id=decision.pk, flow_run_id=RUN)
    assert not Document.objects.filter(case=request.case).exists()


def test_closing_after_a_talk_has_no_appeal_and_goes_to_each_guardian(scanned, org, letters_html):
    """guardian_talk by the team leader: a closing letter per guardian, no appeal section."""
    request = compiled(ELIAS_BERG)
    decision = decide(
        request,
        org["users"]["bo"],
        outcome="guardian_talk",
        motivation="Familjen har flyttat tillbaka och Elias börjar i Norrskolan.",
        decided={"talk_date": "2026-12-08", "reason": "Inskriven från 2026-12-14."},
    )
    verify(decision, flow_run_id=RUN)
    steps.letters_write(decision_id=decision.pk, flow_run_id=RUN)
    letters = letters_html[-2:]
    guardians = [g["name"] for g in demo_child(ELIAS_BERG)["guardians"]]
    for html, guardian in zip(letters, guardians, strict=True):
        assert f"<strong>Till:</strong> {guardian}" in html
        assert "Beslut att avsluta utredning om skolplikt" in html
        assert "den 8 december 2026" in html and "Inskriven från 2026-12-14." in html
        assert "överklaga" not in html.lower()
        assert "Bo Ek" in html
    assert Document.objects.filter(case=request.case).count() == 2
    assert Case.objects.get(pk=request.case_id).status == Case.Status.DECIDED


def test_protected_childs_letters_go_through_skatteverket(scanned, org, letters_html):
    """A protected child's letters carry no address: they are sent through Skatteverket."""
    request = compiled(JUNI_ABERG)
    decision = decide(
        request, org["users"]["sara"], outcome="closed", motivation="Frånvaron är utredd."
    )
    verify(decision, flow_run_id=RUN)
    steps.letters_write(decision_id=decision.pk, flow_run_id=RUN)
    html = letters_html[-1]
    assert "Sänds genom Skatteverkets förmedling" in html
    assert "Exempelgatan" not in html


def test_an_undeclared_outcome_is_refused(scanned, org, fast_pdf):
    """The gate takes only the declared outcomes (closed, guardian_talk, injunction)."""
    request = compiled(BO_LIND)
    with pytest.raises(services.ServiceError):
        decide(request, org["users"]["sara"], outcome="approved")


def test_inbox_cost_does_not_grow_with_skolplikt_rows(scanned, fast_pdf, client, org):
    """The summary cell reads only what the inbox query loads: no query per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(org["users"]["sara"])
    compiled(BO_LIND)
    with CaptureQueriesContext(connection) as one:
        client.get("/?tab=unassigned")
    for number in (ELIAS_BERG, JUNI_ABERG):
        compiled(number)
    with CaptureQueriesContext(connection) as three:
        html = client.get("/?tab=unassigned").content.decode()
    assert html.count('href="/cases/') >= 3
    assert len(three) == len(one)
