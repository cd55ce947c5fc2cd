"""The case page: everything for the decision on one screen, and the decision form."""

import re
from datetime import date

import pytest
from django.contrib.auth.models import User

from approvals.audit import Kind
from approvals.models import AuditEvent, Decision
from approvals.services import assignment
from municipality.models import SecondSignerRule, Staff
from tests.gate_helpers import login_fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]

NBSP = "\xa0"


def _page(client, user, request) -> str:
    login_fresh(client, user)
    response = client.get(f"/cases/{request.case_id}/")
    assert response.status_code == 200
    return response.content.decode()


def _row(html: str, code: str) -> str:
    """The calculation table row of one line, by its code."""
    match = re.search(rf'<tr[^>]*data-code="{re.escape(code)}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {code}"
    return match.group(1)


def _open_material(client, request):
    assert client.get(f"/material/{request.material_id}/").status_code == 200


def _decide(client, request, **data):
    return client.post(
        f"/requests/{request.pk}/decide/",
        {"material_sha256": request.material.sha256, **data},
    )


# --- what the page shows -----------------------------------------------------------------


def test_proposal_comes_first(client, open_request, people):
    """The proposed amount, in Swedish format, is the first thing under the heading."""
    html = _page(client, people["anna"], open_request)
    amount = f"4{NBSP}285{NBSP}kr"
    assert html.index('id="proposal-h"') < html.index('id="calc-h"') < html.index('id="decide-h"')
    assert f'<strong data-testid="proposed-amount">{amount}</strong>' in html


def test_each_deviation_sits_next_to_its_line(client, open_request, people):
    """The housing-allowance deviation is in the housing-allowance row, not elsewhere."""
    html = _page(client, people["anna"], open_request)
    housing = _row(html, "income.housing_allowance")
    [flag] = [f for f in open_request.material.flags if f["income_type"] == "housing_allowance"]
    assert flag["text"].startswith("Bostadsbidrag −23")
    assert flag["text"] in housing
    assert 'class="flag warning"' in housing
    assert flag["text"] not in _row(html, "income.activity_support")
    assert "Register" in housing  # the line's origin


def test_deviations_without_a_line_are_listed_at_the_proposal(client, org, people):
    """A household deviation concerns no calculation line: it is listed under the proposal."""
    from tests.conftest import compile_case, demo_application, receive

    request = compile_case(receive(org, demo_application("etj-2026-000104")))
    household = [f for f in request.material.flags if f["code"] == "HOUSEHOLD_DIFFERS"]
    assert household
    html = _page(client, people["anna"], request)
    proposal = html.split('id="proposal-h"', 1)[1].split('id="calc-h"', 1)[0]
    for flag in household:
        assert flag["text"] in proposal


def test_register_data_with_origin_and_masked_personnummer(client, open_request, people):
    """Register incomes show source, month and amount; the personnummer is masked."""
    html = _page(client, people["anna"], open_request)
    register = html.split('id="register-h"', 1)[1].split("</section>", 1)[0]
    assert "Försäkringskassan" in register and "2026-02" in register
    assert "Aktivitetsstöd" in register and f"6{NBSP}200{NBSP}kr" in register
    assert "19910701-****" in register
    assert open_request.case.applicant_personnummer not in html


def test_applicant_message_and_history(client, open_request, people):
    """The applicant's own words and what happened so far are on the page."""
    html = _page(client, people["anna"], open_request)
    assert "Inget har ändrats sedan förra månaden." in html
    history = html.split('id="history-h"', 1)[1]
    assert "Ansökan mottagen" in history and "Beslutsunderlag sammanställt" in history


def test_material_is_shown_in_a_frame_and_as_pdf(client, open_request, people):
    """The material is embedded (iframe) and linked as PDF."""
    html = _page(client, people["anna"], open_request)
    src = f'src="/material/{open_request.material_id}/"'
    assert f'<iframe class="material" title="Beslutsunderlag, version 1" {src}' in html
    assert f'href="/material/{open_request.material_id}/pdf/"' in html


def test_case_page_alone_does_not_count_as_reading_the_material(client, open_request, people):
    """Loading the page logs a case view; only loading the material itself logs a material view."""
    anna = people["anna"]
    _page(client, anna, open_request)
    assert AuditEvent.objects.filter(kind=Kind.CASE_VIEWED, actor=anna).count() == 1
    assert not AuditEvent.objects.filter(kind=Kind.MATERIAL_VIEWED, actor=anna).exists()
    _open_material(client, open_request)
    assert AuditEvent.objects.filter(kind=Kind.MATERIAL_VIEWED, actor=anna).count() == 1


def test_last_decision_for_the_applicant(client, open_request, people):
    """Without an earlier executed decision the page says so."""
    html = _page(client, people["anna"], open_request)
    assert "Inget tidigare beslut för den sökande." in html


# --- who sees what ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["olle", "greta"])
def test_other_units_and_the_auditor_get_not_found(client, open_request, people, who):
    """Outside the unit the case page is 404, as for a missing case."""
    login_fresh(client, people[who])
    assert client.get(f"/cases/{open_request.case_id}/").status_code == 404
    assert client.get(f"/cases/{open_request.case_id + 999}/").status_code == 404


def test_superuser_without_grant_gets_not_found(client, open_request):
    """The superuser flag opens no case page."""
    boss = User.objects.create_superuser("boss", password="x")
    login_fresh(client, boss)
    assert client.get(f"/cases/{open_request.case_id}/").status_code == 404


def test_unassigned_case_offers_claim_and_decision(client, open_request, people):
    """A caseworker sees the claim button and the decision form."""
    html = _page(client, people["anna"], open_request)
    assert "Ta ärendet" in html
    assert "Underteckna beslutet" in html
    assert "Fördela om" not in html


def test_case_claimed_by_another_has_no_decision_form(client, open_request, people):
    """Erik sees that Anna holds the case, and no form to sign it."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    html = _page(client, people["erik"], open_request)
    assert "Anna Lind har tagit ärendet." in html
    assert "Underteckna beslutet" not in html
    assert "Ta ärendet" not in html


def test_holder_can_release(client, open_request, people):
    """Anna, holding the case, is offered to release it."""
    assignment.request_claim(request_id=open_request.pk, user=people["anna"])
    html = _page(client, people["anna"], open_request)
    assert "Lämna tillbaka till enhetens kö" in html
    assert "Underteckna beslutet" in html


def test_team_leader_sees_the_reassign_form(client, open_request, people):
    """Maria can hand the case to a colleague from the page."""
    html = _page(client, people["maria"], open_request)
    assert "Fördela om" in html
    assert f'<option value="{people["erik"].pk}">Erik Berg</option>' in html


# --- deciding ---------------------------------------------------------------------------


def test_sign_as_proposed(client, open_request, people):
    """Read the material, approve: the decision is recorded and shown."""
    anna = people["anna"]
    login_fresh(client, anna)
    _open_material(client, open_request)
    response = _decide(client, open_request, outcome="approved")
    assert response.status_code == 302
    decision = Decision.objects.get(request=open_request)
    assert (decision.signer, decision.authority_amount) == (anna, 4285)
    html = client.get(response["Location"]).content.decode()
    assert "Beslutet är undertecknat." in html
    assert f"Bifall</strong> – 4{NBSP}285{NBSP}kr" in html
    assert "Underteckna beslutet" not in html


def test_change_the_amount_with_a_reason(client, open_request, people):
    """Approving another amount needs the amount and a reason, and records both."""
    login_fresh(client, people["anna"])
    _open_material(client, open_request)
    _decide(
        client,
        open_request,
        outcome="partly_approved",
        amount="3800",
        motivation="Elkostnaden godtas inte utan faktura.",
    )
    decision = Decision.objects.get(request=open_request)
    assert (decision.outcome, decision.authority_amount) == ("partly_approved", 3800)
    assert decision.motivation == "Elkostnaden godtas inte utan faktura."


def test_return_for_completion_lists_what_is_missing(client, open_request, people):
    """A return records what is missing; the page shows it under the decision."""
    login_fresh(client, people["anna"])
    _open_material(client, open_request)
    response = _decide(client, open_request, outcome="returned", motivation="Hyresavi för mars.")
    html = client.get(response["Location"]).content.decode()
    assert "Saknas: Hyresavi för mars." in html


def test_refusal_without_motivation_is_shown_again_with_the_error(client, open_request, people):
    """The form comes back (400) with the error at the field; nothing is signed."""
    login_fresh(client, people["anna"])
    _open_material(client, open_request)
    response = _decide(client, open_request, outcome="refused")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert 'id="motivation-error">Skriv en motivering till beslutet.' in html
    assert 'aria-invalid="true"' in html
    assert not Decision.objects.exists()


def test_return_without_what_is_missing_is_refused(client, open_request, people):
    """A return must say what is missing."""
    login_fresh(client, people["anna"])
    _open_material(client, open_request)
    response = _decide(client, open_request, outcome="returned", motivation="  ")
    assert "Ange vad som saknas." in response.content.decode()
    assert not Decision.objects.exists()


def test_gate_refusal_is_explained_in_swedish(client, open_request, people):
    """Signing without opening the material: refused, explained, logged, nothing signed."""
    login_fresh(client, people["anna"])
    response = _decide(client, open_request, outcome="approved")
    # Shown again, not redirected: the form keeps what was typed (issue 9, point 15).
    assert response.status_code == 409
    html = response.content.decode()
    assert "Öppna beslutsunderlaget innan du beslutar." in html
    assert not Decision.objects.exists()
    assert AuditEvent.objects.filter(kind=Kind.DECISION_REFUSED).count() == 1


def test_second_signature_from_the_case_page(client, open_request, people):
    """With a second-signer rule, Erik confirms Anna's decision from the page."""
    SecondSignerRule.objects.create(
        unit=open_request.unit,
        decision_type=open_request.decision_type,
        valid_from=date(2026, 1, 1),
    )
    login_fresh(client, people["anna"])
    _open_material(client, open_request)
    response = _decide(client, open_request, outcome="approved")
    anna_html = client.get(response["Location"]).content.decode()
    assert "Beslutet behöver nu en andra underskrift." in anna_html
    assert "Underteckna som andra undertecknare" not in anna_html  # not for the first signer
    login_fresh(client, people["erik"])
    html = client.get(f"/cases/{open_request.case_id}/").content.decode()
    assert "Anna Lind undertecknade: Bifall" in html
    _open_material(client, open_request)
    client.post(
        f"/requests/{open_request.pk}/decide/",
        {"material_sha256": open_request.material.sha256, "outcome": "approved", "motivation": ""},
    )
    open_request.refresh_from_db()
    assert open_request.status == "decided"
    assert Decision.objects.get(request=open_request).cosignature.signer == people["erik"]


# --- language ----------------------------------------------------------------------------


def test_english_on_request(client, open_request, people, settings):
    """With English chosen, the page and its amounts are in English."""
    login_fresh(client, people["anna"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(f"/cases/{open_request.case_id}/").content.decode()
    assert '<html lang="en">' in html
    assert "The robot&#x27;s proposal" in html or "The robot's proposal" in html
    assert f"4,285{NBSP}kr" in html
    assert "Sign decision" in html


def test_language_switch(client, open_request, people):
    """The language form switches to English and back."""
    login_fresh(client, people["anna"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "My cases" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "sv", "next": "/"})
    assert "Mina ärenden" in client.get("/").content.decode()


def test_staff_without_unit_sees_the_page_without_actions(client, open_request, people):
    """A unit-less human with a grant (e.g. a moved employee) can read but not act."""
    moved = User.objects.create_user("moved")
    Staff.objects.create(user=moved, unit=None, role=Staff.Role.CASEWORKER)
    moved.groups.add(*people["anna"].groups.all())
    html = _page(client, moved, open_request)
    assert "Underteckna beslutet" not in html and "Ta ärendet" not in html


# --- changing single lines -----------------------------------------------------------------

RENT_REASON = "Hyran överstiger skälig nivå."


def test_decision_form_offers_each_cost_and_income_line(client, open_request, people):
    """Every cost and income line has a labelled amount and reason field; the norm has none."""
    html = _page(client, people["anna"], open_request)
    section = html.split('<details class="adjust"', 1)[1].split("</details>", 1)[0]
    assert "Ändra enskilda poster" in section
    codes = re.findall(r'data-code="([^"]+)"', section)
    assert codes == [
        "cost.rent",
        "cost.electricity",
        "cost.home_insurance",
        "cost.medical",
        "income.housing_allowance",
        "income.activity_support",
    ]
    assert f"Hyra: föreslaget 6{NBSP}450{NBSP}kr" in section
    assert '<label for="id_line-cost-rent-decided">Hyra: beslutat belopp (kr)</label>' in section
    assert '<label for="id_line-cost-rent-reason">Hyra: skäl till ändringen</label>' in section
    for input_id in re.findall(r'<input[^>]* id="([^"]+)"', section):
        assert f'<label for="{input_id}">' in section, input_id
    assert "riksnorm" not in section


def test_amount_field_starts_empty(client, open_request, people):
    """The amount is typed only for another amount; changed lines leave it empty."""
    html = _page(client, people["anna"], open_request)
    assert re.search(r'<input type="number" name="amount"[^>]* value=""', html)


def test_change_a_line_with_a_reason(client, open_request, people):
    """Rent 6 450 → 5 900 with a reason, amount left empty: partly approved for 3 735 kr."""
    login_fresh(client, people["anna"])
    _open_material(client, open_request)
    response = _decide(
        client,
        open_request,
        outcome="partly_approved",
        amount="",
        motivation="Hyran godtas upp till skälig nivå.",
        **{"line-cost-rent-decided": "5900", "line-cost-rent-reason": RENT_REASON},
    )
    assert response.status_code == 302
    decision = Decision.objects.get(request=open_request)
    assert (decision.outcome, decision.authority_amount) == ("partly_approved", 3735)
    assert [(c["code"], c["decided"], c["reason"]) for c in decision.adjustments] == [
        ("cost.rent", 5900, RENT_REASON)
    ]
    html = client.get(response["Location"]).content.decode()
    change = f"Hyra: 6{NBSP}450{NBSP}kr ändrat till 5{NBSP}900{NBSP}kr"
    assert change in html.split('id="decisions-h"', 1)[1]
    assert RENT_REASON in html


def test_changed_line_without_reason_is_shown_again(client, open_request, people):
    """An amount without a reason comes back (400) with the section open and the error at the
    reason; nothing is signed."""
    login_fresh(client, people["anna"])
    _open_material(client, open_request)
    response = _decide(
        client,
        open_request,
        outcome="partly_approved",
        motivation="x",
        **{"line-cost-rent-decided": "5900"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert '<details class="adjust" open>' in html
    assert 'id="id_line-cost-rent-reason-error">Ange skälet till ändringen.' in html
    assert 'href="#id_line-cost-rent-reason"' in html  # in the error summary
    assert not Decision.objects.exists()


def test_lowered_line_as_an_approval_is_refused_and_explained(client, open_request, people):
    """A lowered cost is not an approval: the gate refuses, explains, and logs it."""
    login_fresh(client, people["anna"])
    _open_material(client, open_request)
    response = _decide(
        client,
        open_request,
        outcome="approved",
        **{"line-cost-rent-decided": "5900", "line-cost-rent-reason": RENT_REASON},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "välj Bevilja ett annat belopp" in html
    assert 'value="5900"' in html and RENT_REASON in html  # what was typed is kept
    assert not Decision.objects.exists()
    refusal = AuditEvent.objects.get(kind=Kind.DECISION_REFUSED)
    assert refusal.data["code"] == "DECISION_ADJUSTMENT_OUTCOME_MISMATCH"


def test_second_signer_sees_and_confirms_the_changed_lines(client, open_request, people):
    """Erik sees Anna's changed line and signs the same decision with the page's own fields."""
    SecondSignerRule.objects.create(
        unit=open_request.unit,
        decision_type=open_request.decision_type,
        valid_from=date(2026, 1, 1),
    )
    login_fresh(client, people["anna"])
    _open_material(client, open_request)
    _decide(
        client,
        open_request,
        outcome="partly_approved",
        motivation="Skälig hyra.",
        **{"line-cost-rent-decided": "5900", "line-cost-rent-reason": RENT_REASON},
    )
    login_fresh(client, people["erik"])
    html = client.get(f"/cases/{open_request.case_id}/").content.decode()
    form = html.split('id="decide-h"', 1)[1].split("</form>", 1)[0]
    assert f"Hyra: 6{NBSP}450{NBSP}kr ändrat till 5{NBSP}900{NBSP}kr" in form
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    assert hidden["line-cost-rent-decided"] == "5900"
    assert hidden["line-cost-rent-reason"] == RENT_REASON
    _open_material(client, open_request)
    client.post(f"/requests/{open_request.pk}/decide/", hidden)
    open_request.refresh_from_db()
    assert open_request.status == "decided"
    assert Decision.objects.get(request=open_request).cosignature.signer == people["erik"]
