"""The auditor's pages with the test-only process: who gets in, what they show, the
exports, and that reads are logged. Bistånd's version: tests/flows/ekonomiskt_bistand/."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from approvals import audit_selectors, services
from approvals.audit import Kind
from approvals.models import AuditChainHead, AuditEvent, Decision
from approvals.printing import pdf_text
from municipality.demo import AUDITORS_GROUP
from municipality.models import Staff
from tests.db_helpers import guards_off
from tests.gate_helpers import decide

from .core_helpers import core_carry_out, core_compile, core_open

# Material and letters need no real PDF here (the report export renders one for real).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]


@pytest.fixture
def trail(core_request, crew, core_org):
    """A case decided by Kim with a changed amount, verified and carried out (letter written)."""
    decision = decide(
        core_request, crew["kim"], outcome="refused", motivation="Underlaget räcker inte."
    )
    return core_carry_out(decision)


def _superuser(django_user_model):
    boss = django_user_model.objects.create_superuser("boss", password="x")
    Staff.objects.create(user=boss, kind=Staff.Kind.HUMAN, role=Staff.Role.CASEWORKER)
    return boss


def _urls(decision) -> list[str]:
    case = decision.request.case
    return [
        reverse("approvals:audit_search"),
        reverse("approvals:audit_case", args=[case.pk]),
        reverse("approvals:audit_export_json", args=[case.pk]),
        reverse("approvals:audit_export_pdf", args=[case.pk]),
        reverse("approvals:audit_material", args=[decision.material_id, "html"]),
        reverse("approvals:audit_material", args=[decision.material_id, "pdf"]),
        reverse("approvals:audit_document", args=[decision.documents.get().pk]),
        reverse("approvals:audit_access_log"),
        reverse("approvals:audit_statistics"),
    ]


# --- who gets in -----------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client, trail):
    """Without a login every auditor page redirects to the login page and logs nothing."""
    events = AuditEvent.objects.count()
    for url in _urls(trail):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("username", ["kim", "kai", "lo", "uno"])
def test_staff_without_the_grant_are_refused(client, trail, crew, username):
    """Caseworkers, the team leader and the unit administrator get 403 on every auditor page."""
    client.force_login(crew[username])
    events = AuditEvent.objects.count()
    for url in _urls(trail):
        assert client.get(url).status_code == 403, url
    assert AuditEvent.objects.count() == events


def test_integration_account_is_refused_even_in_the_auditors_group(client, trail, crew):
    """A machine account never reads the trail, whatever group it was put in."""
    core_system = crew["core-system"]
    core_system.groups.add(Group.objects.get(name=AUDITORS_GROUP))
    client.force_login(core_system)
    for url in _urls(trail):
        assert client.get(url).status_code == 403, url


def test_superuser_without_the_grant_is_refused(client, trail, django_user_model):
    """The superuser flag grants nothing on the auditor's pages."""
    client.force_login(_superuser(django_user_model))
    for url in _urls(trail):
        assert client.get(url).status_code == 403, url


def test_auditor_reaches_every_page(client, trail, crew):
    """Greta, in the auditors group, gets every page."""
    client.force_login(crew["greta"])
    for url in _urls(trail):
        assert client.get(url).status_code == 200, url


def test_deactivated_auditor_is_refused(client, trail, crew):
    """A deactivated auditor's session no longer opens the pages."""
    greta = crew["greta"]
    client.force_login(greta)
    greta.is_active = False
    greta.save()
    response = client.get(reverse("approvals:audit_search"))
    assert response.status_code in (302, 403)


def test_unknown_case_is_not_found(client, crew):
    client.force_login(crew["greta"])
    assert client.get(reverse("approvals:audit_case", args=[999999])).status_code == 404
    assert client.get("/audit/material/1/exe/").status_code == 404


def test_caseworker_letter_link_does_not_open_other_units_letters_for_auditors(client, trail, crew):
    """The caseworkers' letter link checks the case grant; auditors use their own page."""
    client.force_login(crew["greta"])
    assert (
        client.get(reverse("approvals:document_pdf", args=[trail.documents.get().pk])).status_code
        == 404
    )


# --- auditor reads are logged ----------------------------------------------------------


def test_auditor_case_page_and_downloads_are_logged(client, trail, crew):
    """Each auditor read of a case is an event with purpose "audit"."""
    greta = crew["greta"]
    client.force_login(greta)
    case = trail.request.case
    for url in _urls(trail)[1:7]:
        client.get(url)
    reads = AuditEvent.objects.filter(case=case, actor=greta).order_by("seq")
    assert [e.data["what"] for e in reads] == [
        "audit_trail",
        "audit_export_json",
        "audit_export_pdf",
        "audit_material_html",
        "audit_material_pdf",
        "audit_document_pdf",
    ]
    assert {e.data["purpose"] for e in reads} == {"audit"}
    assert [e.kind for e in reads][3:] == [
        Kind.MATERIAL_VIEWED,
        Kind.MATERIAL_VIEWED,
        Kind.DOCUMENT_VIEWED,
    ]


def test_auditor_list_pages_are_logged_with_their_filters(client, trail, crew):
    """Search, access log and statistics each log one audit.viewed event with the filters."""
    greta = crew["greta"]
    client.force_login(greta)
    client.get(reverse("approvals:audit_search"), {"outcome": "refused"})
    client.get(reverse("approvals:audit_access_log"), {"unassigned_only": "on"})
    client.get(reverse("approvals:audit_statistics"))
    events = AuditEvent.objects.filter(kind=Kind.AUDIT_VIEWED, actor=greta).order_by("seq")
    assert [e.data["page"] for e in events] == [
        "decision_search",
        "access_log",
        "review_statistics",
    ]
    assert events[0].data["filters"] == {"outcome": "refused"}
    assert events[1].data["filters"] == {"unassigned_only": "True"}


# --- what the pages show ---------------------------------------------------------------


def test_case_page_shows_review_evidence_hashes_and_chain(client, trail, crew):
    """The timeline page shows the review evidence, each version's hashes and the chain state."""
    client.force_login(crew["greta"])
    case = trail.request.case
    response = client.get(reverse("approvals:audit_case", args=[case.pk]))
    html = response.content.decode()
    assert "Underlaget räcker inte." in html
    assert trail.material.sha256 in html
    assert trail.material.pdf_sha256 in html
    assert trail.documents.get().sha256 in html
    assert 'data-testid="chain-status"' in html
    assert response.context["chain_break"] is None
    [(decision, evidence)] = response.context["decisions"]
    assert decision.pk == trail.pk and not decision.followed_proposal
    [first] = evidence
    assert first.signer_name == "Kim Kvist"
    assert first.opened_at == trail.material_opened_at
    assert first.seconds_open_to_sign == int(
        (trail.signed_at - trail.material_opened_at).total_seconds()
    )
    assert first.material_views_before_signing == 1
    assert first.delegation_reference == "TN 1.1"
    # Accessible tables inside the site's layout.
    for markup in ("<caption", 'scope="col"', 'scope="row"', 'class="skip-link"'):
        assert markup in html


def test_material_and_letter_downloads_match_their_hashes(client, trail, crew):
    """What the auditor downloads hashes to what the page and the trail show."""
    client.force_login(crew["greta"])
    material = trail.material
    html = client.get(reverse("approvals:audit_material", args=[material.pk, "html"]))
    assert hashlib.sha256(html.content).hexdigest() == material.sha256
    assert html["Content-Disposition"].startswith("attachment")
    pdf = client.get(reverse("approvals:audit_material", args=[material.pk, "pdf"]))
    assert hashlib.sha256(pdf.content).hexdigest() == material.pdf_sha256
    letter = client.get(reverse("approvals:audit_document", args=[trail.documents.get().pk]))
    assert hashlib.sha256(letter.content).hexdigest() == trail.documents.get().sha256


def test_case_page_shows_a_broken_case_chain(client, trail, crew):
    """A case whose events do not re-hash is marked broken on the page."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("tampering needs PostgreSQL's replica role")
    case = trail.request.case
    seq = AuditEvent.objects.filter(case=case, kind=Kind.DECISION_SIGNED).get().seq
    with guards_off() as cursor:
        cursor.execute(
            "UPDATE approvals_auditevent SET actor_label = 'human:kai' WHERE seq = %s", [seq]
        )
    client.force_login(crew["greta"])
    response = client.get(reverse("approvals:audit_case", args=[case.pk]))
    assert response.context["chain_break"].seq == seq


def _second_case(core_org, ref: str, user, **signing):
    request = core_compile(core_open(core_org, ref=ref))
    return decide(request, user, **signing)


def test_search_filters_decisions(client, trail, crew, core_org):
    """Search by outcome, changed-from-proposal, decision-maker, unit, process and period."""
    kai = crew["kai"]
    other = _second_case(core_org, "t-900001", kai)
    client.force_login(crew["greta"])
    url = reverse("approvals:audit_search")

    def found(**params):
        return {d.pk for d in client.get(url, params).context["decisions"]}

    assert found() == {trail.pk, other.pk}
    assert found(changed="on") == {trail.pk}
    assert found(outcome="approved") == {other.pk}
    assert found(signer="kai") == {other.pk}
    assert found(unit="core-unit", process="core-test") == {trail.pk, other.pk}
    assert found(process="ekonomiskt-bistand") == set()
    today = timezone.localdate()
    assert found(signed_from=today.isoformat(), signed_to=today.isoformat()) == {
        trail.pk,
        other.pk,
    }
    assert found(signed_to=(today - timedelta(days=1)).isoformat()) == set()


def test_filter_forms_label_every_field(client, trail, crew):
    """Every filter input has a label pointing at it."""
    client.force_login(crew["greta"])
    for name in ("audit_search", "audit_access_log", "audit_statistics"):
        response = client.get(reverse(f"approvals:{name}"))
        html = response.content.decode()
        for field in response.context["form"]:
            assert f'for="{field.id_for_label}"' in html, (name, field.name)


def test_search_ignores_malformed_filters_and_says_so(client, trail, crew):
    """A malformed filter is reported next to the form; the search still answers."""
    client.force_login(crew["greta"])
    response = client.get(reverse("approvals:audit_search"), {"signed_from": "yesterday"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_access_log_flags_reads_without_an_open_assignment(client, trail, crew):
    """After the decision, a colleague's read is flagged; the auditor's reads are not."""
    case = trail.request.case
    services.case_access_record(user=crew["lo"], case=case, what="case_page")
    greta = crew["greta"]
    client.force_login(greta)
    client.get(reverse("approvals:audit_case", args=[case.pk]))
    response = client.get(reverse("approvals:audit_access_log"))
    rows = {(e.actor.username, e.data["what"]): flagged for e, flagged in response.context["rows"]}
    assert rows[("kim", "material")] is False
    assert rows[("lo", "case_page")] is True
    assert rows[("greta", "audit_trail")] is False
    flagged = client.get(reverse("approvals:audit_access_log"), {"unassigned_only": "on"})
    assert [(e.actor.username, f) for e, f in flagged.context["rows"]] == [("lo", True)]
    assert 'data-testid="flagged-read"' in flagged.content.decode()
    by_actor = client.get(reverse("approvals:audit_access_log"), {"actor": "kim"})
    assert {e.actor.username for e, _ in by_actor.context["rows"]} == {"kim"}


def test_review_statistics_per_decision_maker(client, trail, crew, core_org):
    """Median time on case, share signed within N seconds, and override rate, per person."""
    kim, kai = crew["kim"], crew["kai"]
    quick = _second_case(core_org, "t-900002", kim)
    third = _second_case(core_org, "t-900003", kim)
    eriks = _second_case(core_org, "t-900004", kai)
    # Review times set directly: 10 s, 100 s and 1000 s for Kim, 20 s for Kai.
    with guards_off():  # signed decisions are immutable; set as only the table owner could
        for decision, seconds in ((trail, 1000), (quick, 10), (third, 100), (eriks, 20)):
            Decision.objects.filter(pk=decision.pk).update(
                material_opened_at=decision.signed_at - timedelta(seconds=seconds)
            )
    stats = {r.username: r for r in audit_selectors.review_statistics(filters={})}
    assert stats["kim"].decisions == 3
    assert stats["kim"].median_seconds == 100
    assert stats["kim"].quick_share == pytest.approx(1 / 3)
    assert stats["kim"].override_rate == pytest.approx(1 / 3)
    assert stats["kai"].median_seconds == 20
    assert stats["kai"].quick_share == 1
    assert stats["kai"].override_rate == 0
    slower = {r.username: r for r in audit_selectors.review_statistics(filters={}, quick_seconds=5)}
    assert slower["kai"].quick_share == 0
    client.force_login(crew["greta"])
    page = client.get(reverse("approvals:audit_statistics"), {"quick_seconds": "150"})
    assert page.context["quick_seconds"] == 150
    assert 'data-testid="stats-kim"' in page.content.decode()


def test_review_statistics_count_second_signatures(core_request, crew, core_org):
    """Second signatures are counted apart, with their own review times."""
    from municipality.models import SecondSignerRule
    from tests.core_process.process import DECISION_TYPE

    SecondSignerRule.objects.create(
        unit=core_org["unit"],
        decision_type=DECISION_TYPE,
        valid_from=timezone.localdate() - timedelta(days=1),
    )
    decide(core_request, crew["kim"])
    decide(core_request, crew["kai"])
    stats = {r.username: r for r in audit_selectors.review_statistics(filters={})}
    assert stats["kai"].decisions == 0 and stats["kai"].second_signatures == 1
    assert stats["kim"].decisions == 1 and stats["kim"].second_signatures == 0


# --- exports ---------------------------------------------------------------------------


def _recompute(event: dict) -> str:
    """An outside party's check, written from the export's own description."""
    payload = {k: v for k, v in event.items() if k != "hash"}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_json_export_re_verifies_outside_the_system(client, trail, crew):
    """Every event of the case is in the export with its hashes, and they re-verify."""
    client.force_login(crew["greta"])
    case = trail.request.case
    response = client.get(reverse("approvals:audit_export_json", args=[case.pk]))
    export = json.loads(response.content)
    events = export["events"]
    assert [e["seq"] for e in events] == list(
        AuditEvent.objects.filter(case=case).order_by("seq").values_list("seq", flat=True)
    )
    prev = export["hashing"]["genesis"]
    for event in events:
        assert event["case_prev_hash"] == prev
        assert _recompute(event) == event["hash"]
        assert len(event["prev_hash"]) == 64
        prev = event["hash"]
    assert export["case_chain_intact_at_export"] is True
    head = AuditChainHead.objects.get()
    assert export["chain_head"]["seq"] <= head.last_seq
    assert export["materials"][0]["html_sha256"] == trail.material.sha256
    assert export["documents"][0]["pdf_sha256"] == trail.documents.get().sha256
    [decision] = export["decisions"]
    assert decision["followed_proposal"] is False
    assert decision["signatures"][0]["material_sha256"] == trail.material_sha256
    assert "seconds_from_open_to_sign" in decision["signatures"][0]
    # The export itself was logged, and is its own last event.
    assert events[-1]["data"]["what"] == "audit_export_json"
    # A changed value no longer re-hashes.
    events[1]["actor_label"] = "human:someone"
    assert _recompute(events[1]) != events[1]["hash"]


def test_json_export_carries_no_personnummer(client, trail, crew):
    """The export names the case by reference, never by the applicant's personnummer."""
    client.force_login(crew["greta"])
    case = trail.request.case
    body = client.get(reverse("approvals:audit_export_json", args=[case.pk])).content.decode()
    for number in services.party_personnummer(case):
        assert number not in body
        assert number[2:] not in body


def test_pdf_report_reads_back(client, trail, crew):
    """The PDF report carries the case, the decision and its review evidence, and the trail."""
    client.force_login(crew["greta"])
    case = trail.request.case
    response = client.get(reverse("approvals:audit_export_pdf", args=[case.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert case.external_ref in text
    assert "Kim Kvist" in text
    assert "Underlaget räcker inte." in text
    assert "decision.signed" in text
    assert "human:greta" in text
    assert trail.material.sha256[:16] in text
