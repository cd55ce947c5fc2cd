"""The roster robot wired into the core: request → case → proposal → edits → approval → calendars."""

import json
import time

import pytest
from icalendar import Calendar

from approvals import rules, services
from approvals.hashing import sha256_hex
from approvals.models import AuditEvent, Case, Decision, Document, PrefectCommand
from approvals.registry import registry
from flows.schemalaggning import steps
from flows.schemalaggning.drafts import roster_final, shifts_sha256
from flows.schemalaggning.models import RosterCalendar, RosterDraft
from flows.schemalaggning.process import DECISION_TYPE, UNIT_CODE
from flows.schemalaggning.rules import check
from flows.schemalaggning.solver import roster_of
from municipality.models import Delegation, Staff
from tests.gate_helpers import fresh_authentication, login_fresh, material_open, verify

from .casework import TINY, overlapping_move, roster_case_open, roster_compile

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_(org, fast_pdf):
    return roster_compile(roster_case_open(org))


def edit(client, case, **data):
    return client.post(f"/p/schemalaggning/cases/{case.pk}/edit/", data)


def draft_of(request_):
    return RosterDraft.objects.get(material=request_.material)


def test_declaration_and_demo_unit(org):
    """Not public authority, decided by a person; elin is the unit's enhetschef with delegation."""
    spec = registry["schemalaggning"]
    assert (spec.public_authority, spec.decision_mode) == (False, "human")
    decision_type = spec.decision_type(DECISION_TYPE)
    assert decision_type.label == "Fastställ schema" and not decision_type.has_amount
    assert [(o.code, o.label) for o in decision_type.outcomes] == [
        ("approved", "Fastställt"),
        ("returned", "Åter för ändring"),
    ]
    elin = org["users"]["elin"].staff
    assert (elin.unit.code, elin.role, elin.title) == (UNIT_CODE, "team_leader", "Enhetschef")
    assert elin.unit.name == "Hemtjänst Norr" and elin.unit.committee == "Äldreomsorgsnämnden"
    assert Delegation.objects.filter(
        unit=elin.unit, decision_type=DECISION_TYPE, role=Staff.Role.TEAM_LEADER
    ).exists()
    assert org["users"]["schemarobot"].staff.kind == Staff.Kind.ROBOT


def test_request_page_opens_a_case_for_the_manager(org, client):
    """The manager picks an input; a case opens (no parties), its flow start is queued."""
    login_fresh(client, org["users"]["elin"])
    page = client.get("/p/schemalaggning/")
    assert page.status_code == 200 and TINY in page.content.decode()
    response = client.post("/p/schemalaggning/", {"roster_input": TINY})
    case = Case.objects.get(process="schemalaggning")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert case.received_by == org["users"]["elin"] and case.public_authority is False
    assert case.data["period"] == "2027-01-04 – 2027-01-10" and case.data["unit"] == UNIT_CODE
    assert case.payload["roster"]["staff"][0]["id"] == "s01"
    assert not case.parties.exists()
    start = PrefectCommand.objects.get(case=case, kind="start")
    assert start.payload == {"case_id": case.pk}  # ids only towards Prefect
    # Asking again while the case is open leads to it, not to a second case.
    again = client.post("/p/schemalaggning/", {"roster_input": TINY})
    assert again["Location"] == f"/cases/{case.pk}/"
    assert Case.objects.filter(process="schemalaggning").count() == 1


def test_request_page_refuses_other_units_and_unknown_inputs(org, client):
    """A caseworker of another unit gets 404; an input of no unit is a form error, no case."""
    login_fresh(client, org["users"]["anna"])
    assert client.get("/p/schemalaggning/").status_code == 404
    login_fresh(client, org["users"]["elin"])
    response = client.post("/p/schemalaggning/", {"roster_input": "../../etc/passwd"})
    assert response.status_code == 400
    assert not Case.objects.filter(process="schemalaggning").exists()


def test_flow_steps_propose_and_compile(request_):
    """CP-SAT proposes the tiny week; the material carries the proposal, summary and draft."""
    material = request_.material
    proposal = material.proposal
    assert proposal["solver"]["status"] == "OPTIMAL"
    assert len(proposal["shifts"]) == 12 and proposal["breaches"] == []
    assert material.summary == "12 pass, 0 regelbrott"
    assert "Schemaförslag" in material.html and "Aino A." in material.html
    assert request_.case.status == Case.Status.AWAITING_DECISION
    assert request_.decision_type == DECISION_TYPE
    assert draft_of(request_).version == 0
    # A re-run of the step does not solve again: the same material comes back.
    again = steps.material_prepare(case_id=request_.case_id, version=1, flow_run_id="test")
    assert again.material_id == material.pk


def test_case_page_shows_grid_and_edit_forms(org, client, request_):
    """The generic case page renders the roster panel with the grid and the edit forms."""
    login_fresh(client, org["users"]["elin"])
    html = client.get(f"/cases/{request_.case_id}/").content.decode()
    assert 'class="roster-grid"' in html and "Flytta passet" in html
    assert "Fastställ schemat" in html and "Inga regelbrott." in html
    assert "<script" not in html.split('class="proposal roster"')[1]


def test_edit_recomputes_breaches_at_once(org, client, request_):
    """Moving a shift to someone already working then is an overlap, shown after the edit."""
    login_fresh(client, org["users"]["elin"])
    index, person = overlapping_move(request_.material)
    started = time.perf_counter()
    response = edit(client, request_.case, op="move", index=index, staff=person, draft_version=0)
    elapsed = time.perf_counter() - started
    assert response.status_code == 302 and response["Location"].endswith("#roster-h")
    draft = draft_of(request_)
    assert draft.version == 1 and draft.edits == [{"op": "move", "index": index, "staff": person}]
    assert {b["rule"] for b in draft.verdict["breaches"]} >= {"overlap"}
    assert draft.verdict == check({**roster_of(request_.material.proposal), "shifts": draft.shifts})
    assert elapsed < 0.5, elapsed
    page = client.get(f"/cases/{request_.case_id}/").content.decode()
    assert 'data-rule="overlap"' in page and "regelbrott" in page
    assert "Ändrat och kontrollerat på" in page


def test_swap_add_remove_and_stale_forms(org, client, request_):
    """Each edit bumps the draft; a form made for an older draft is refused, nothing stored."""
    login_fresh(client, org["users"]["elin"])
    case = request_.case
    edit(client, case, op="swap", index=0, other=1, draft_version=0)
    edit(client, case, op="add", staff="s02", day="2027-01-10", shift="evening", draft_version=1)
    edit(client, case, op="remove", index=2, draft_version=2)
    draft = draft_of(request_)
    assert draft.version == 3 and [e["op"] for e in draft.edits] == ["swap", "add", "remove"]
    added = {"op": "add", "staff": "s02", "start": "2027-01-10T14:00", "end": "2027-01-10T22:00"}
    assert draft.edits[1] == {**added, "shift": "evening"}
    assert draft.shifts == roster_final(request_.material.proposal, draft.edits)["shifts"]
    stale = edit(client, case, op="remove", index=0, draft_version=1)
    assert stale.status_code == 302 and draft_of(request_).version == 3
    bad = edit(client, case, op="remove", index=999, draft_version=3)
    assert bad.status_code == 302 and draft_of(request_).version == 3


def test_edits_are_refused_for_other_units(org, client, request_):
    """A caseworker or team leader of another unit cannot see or edit the roster: 404."""
    for username in ("anna", "maria"):
        login_fresh(client, org["users"][username])
        assert edit(client, request_.case, op="remove", index=0, draft_version=0).status_code == 404
        assert client.get(f"/cases/{request_.case_id}/").status_code == 404
    assert draft_of(request_).version == 0


def approve(client, request_, *, accept=False, version=None):
    data = {
        "material_sha256": request_.material.sha256,
        "draft_version": draft_of(request_).version if version is None else version,
        "motivation": "",
    }
    if accept:
        data["accept_breaches"] = "on"
    return client.post(f"/p/schemalaggning/cases/{request_.case_id}/approve/", data)


def test_approve_signs_the_edits_and_publishes_exactly_them(org, client, request_):
    """elin moves a shift and approves; the decision carries the edits and the final hash; the
    robot publishes one calendar per person holding exactly the signed roster."""
    elin = org["users"]["elin"]
    login_fresh(client, elin)
    index, person = overlapping_move(request_.material)
    edit(client, request_.case, op="move", index=index, day="2027-01-10", staff=person,
         draft_version=0)  # fmt: skip
    material_open(elin, request_)
    assert approve(client, request_).status_code == 302
    assert not Decision.objects.exists()  # breaches not acknowledged: nothing signed
    assert approve(client, request_, accept=True).status_code == 302
    decision = Decision.objects.get(request=request_)
    draft = draft_of(request_)
    final = roster_final(request_.material.proposal, draft.edits)
    assert decision.signer == elin and decision.outcome == "approved"
    assert decision.decided["edits"] == draft.edits
    assert decision.decided["shifts_sha256"] == shifts_sha256(final["shifts"])
    assert PrefectCommand.objects.filter(case=request_.case, kind="resume").exists()

    verify(decision)
    steps.roster_publish(decision_id=decision.pk, flow_run_id="test")
    calendars = {c.staff_id: c for c in RosterCalendar.objects.filter(decision=decision)}
    assert set(calendars) == {"s01", "s02", "s03"}
    for staff_id, calendar in calendars.items():
        events = Calendar.from_ical(bytes(calendar.ics)).walk("VEVENT")
        mine = sorted(s["start"] for s in final["shifts"] if s["staff"] == staff_id)
        starts = sorted(e.decoded("dtstart").strftime("%Y-%m-%dT%H:%M") for e in events)
        assert starts == mine and calendar.events == len(mine)
        assert calendar.sha256 == sha256_hex(bytes(calendar.ics))
    moved = final["shifts"][index]
    assert moved["start"].startswith("2027-01-10") and moved["staff"] == person
    document = Document.objects.get(decision=decision)
    assert document.kind == Document.Kind.ROSTER
    case = Case.objects.get(pk=request_.case_id)
    assert case.status == Case.Status.DECIDED
    # Publishing again (a re-run of the flow) writes nothing new.
    steps.roster_publish(decision_id=decision.pk, flow_run_id="test")
    assert RosterCalendar.objects.filter(decision=decision).count() == 3
    response = client.get(f"/p/schemalaggning/cases/{case.pk}/calendars/{person}.ics")
    assert response["Content-Type"].startswith("text/calendar")
    assert bytes(response.content) == bytes(calendars[person].ics)


def test_approval_needs_the_material_opened(org, client, request_):
    """Approving without having opened the material is refused by the gate; nothing is signed."""
    login_fresh(client, org["users"]["elin"])
    response = approve(client, request_)
    assert response.status_code == 302
    assert not Decision.objects.exists()
    refused = AuditEvent.objects.get(case=request_.case, kind="decision.sign_refused")
    assert refused.data["code"] == rules.DECISION_MATERIAL_NOT_OPENED


def test_approval_refused_for_a_caseworker_of_another_unit(org, client, request_):
    """anna (ekonomiskt bistånd) gets 404 on the approve page, and the gate refuses her too."""
    anna = org["users"]["anna"]
    login_fresh(client, anna)
    assert approve(client, request_).status_code == 404
    with pytest.raises(services.GateRefused):
        services.decision_sign(
            request_id=request_.pk,
            user=anna,
            outcome="approved",
            motivation="",
            shown_material_sha256=request_.material.sha256,
            authentication=fresh_authentication(),
        )
    assert not Decision.objects.exists()


def test_stale_approval_form_is_refused(org, client, request_):
    """An approval posted for an older draft version (edited meanwhile) signs nothing."""
    elin = org["users"]["elin"]
    login_fresh(client, elin)
    edit(client, request_.case, op="swap", index=0, other=1, draft_version=0)
    material_open(elin, request_)
    approve(client, request_, accept=True, version=0)
    assert not Decision.objects.exists()


def test_generic_form_approves_the_proposal_unedited(org, client, request_):
    """The generic decision form (no decided data) publishes the proposal as compiled."""
    elin = org["users"]["elin"]
    login_fresh(client, elin)
    material_open(elin, request_)
    response = client.post(
        f"/requests/{request_.pk}/decide/",
        {"material_sha256": request_.material.sha256, "outcome": "approved", "motivation": ""},
    )
    assert response.status_code == 302
    decision = Decision.objects.get(request=request_)
    verify(decision)
    steps.roster_publish(decision_id=decision.pk, flow_run_id="test")
    proposal = request_.material.proposal
    total = sum(c.events for c in RosterCalendar.objects.filter(decision=decision))
    assert total == len(proposal["shifts"])


def test_return_for_change_publishes_nothing(org, client, request_):
    """ "Åter för ändring" needs a motivation; carried out, the case is returned, no calendars."""
    elin = org["users"]["elin"]
    login_fresh(client, elin)
    material_open(elin, request_)
    client.post(
        f"/requests/{request_.pk}/decide/",
        {
            "material_sha256": request_.material.sha256,
            "outcome": "returned",
            "motivation": "Behoven för helgen saknas i underlaget.",
        },
    )
    decision = Decision.objects.get(request=request_)
    verify(decision)
    assert steps.roster_publish(decision_id=decision.pk, flow_run_id="test") == ""
    assert Case.objects.get(pk=request_.case_id).status == Case.Status.RETURNED
    assert not RosterCalendar.objects.exists()


def test_publish_refuses_a_roster_other_than_the_signed(request_):
    """If the recomputed roster's hash is not the signed one, nothing is published."""

    class Signed:
        pk = 1
        material = request_.material
        decided = {"edits": [{"op": "remove", "index": 0}], "shifts_sha256": "0" * 64}

    with pytest.raises(steps.PublishRefused):
        steps.signed_roster(Signed())


def test_nothing_personal_in_the_flow_commands(org, request_):
    """The outbox towards Prefect holds ids only: no staff names or ids."""
    text = json.dumps(list(PrefectCommand.objects.values("payload")))
    assert "Aino" not in text and '"s01"' not in text
