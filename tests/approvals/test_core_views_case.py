"""The case page with the test-only process: access, claiming, the decision form, language.

The process's own panel (tests/core_process/templates/core-test/case_panel.html) stands
in for a real robot's proposal; bistånd's page (its calculation lines, deviations and
register data) is tested in tests/flows/ekonomiskt_bistand/test_views_case.py.
"""

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


def _open_material(client, request):
    assert client.get(f"/material/{request.material_id}/").status_code == 200


def _decide(client, request, **data):
    return client.post(
        f"/requests/{request.pk}/decide/",
        {"material_sha256": request.material.sha256, **data},
    )


# --- what the page shows -----------------------------------------------------------------


def test_the_process_panel_is_rendered(client, core_request, crew):
    """The case page renders the process's own panel template with its material."""
    html = _page(client, crew["kim"], core_request)
    assert '<p data-testid="core-panel">4000 kr</p>' in html


def test_material_is_shown_in_a_frame_and_as_pdf(client, core_request, crew):
    """The material is embedded (iframe) and linked as PDF."""
    html = _page(client, crew["kim"], core_request)
    src = f'src="/material/{core_request.material_id}/"'
    assert f'<iframe class="material" title="Beslutsunderlag, version 1" {src}' in html
    assert f'href="/material/{core_request.material_id}/pdf/"' in html


def test_case_page_alone_does_not_count_as_reading_the_material(client, core_request, crew):
    """Loading the page logs a case view; only loading the material itself logs a material view."""
    kim = crew["kim"]
    _page(client, kim, core_request)
    assert AuditEvent.objects.filter(kind=Kind.CASE_VIEWED, actor=kim).count() == 1
    assert not AuditEvent.objects.filter(kind=Kind.MATERIAL_VIEWED, actor=kim).exists()
    _open_material(client, core_request)
    assert AuditEvent.objects.filter(kind=Kind.MATERIAL_VIEWED, actor=kim).count() == 1


# --- who sees what ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["olle", "greta"])
def test_other_units_and_the_auditor_get_not_found(client, core_request, crew, who):
    """Outside the unit the case page is 404, as for a missing case."""
    login_fresh(client, crew[who])
    assert client.get(f"/cases/{core_request.case_id}/").status_code == 404
    assert client.get(f"/cases/{core_request.case_id + 999}/").status_code == 404


def test_superuser_without_grant_gets_not_found(client, core_request):
    """The superuser flag opens no case page."""
    boss = User.objects.create_superuser("boss", password="x")
    login_fresh(client, boss)
    assert client.get(f"/cases/{core_request.case_id}/").status_code == 404


def test_unassigned_case_offers_claim_and_decision(client, core_request, crew):
    """A caseworker sees the claim button and the decision form."""
    html = _page(client, crew["kim"], core_request)
    assert "Ta ärendet" in html
    assert "Underteckna beslutet" in html
    assert "Fördela om" not in html


def test_case_claimed_by_another_has_no_decision_form(client, core_request, crew):
    """Kai sees that Kim holds the case, and no form to sign it."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    html = _page(client, crew["kai"], core_request)
    assert "Kim Kvist har tagit ärendet." in html
    assert "Underteckna beslutet" not in html
    assert "Ta ärendet" not in html


def test_holder_can_release(client, core_request, crew):
    """Kim, holding the case, is offered to release it."""
    assignment.request_claim(request_id=core_request.pk, user=crew["kim"])
    html = _page(client, crew["kim"], core_request)
    assert "Lämna tillbaka till enhetens kö" in html
    assert "Underteckna beslutet" in html


def test_team_leader_sees_the_reassign_form(client, core_request, crew):
    """Lo can hand the case to a colleague from the page."""
    html = _page(client, crew["lo"], core_request)
    assert "Fördela om" in html
    assert f'<option value="{crew["kai"].pk}">Kai Berg</option>' in html


# --- deciding ---------------------------------------------------------------------------


def test_sign_as_proposed(client, core_request, crew):
    """Read the material, approve: the decision is recorded and shown."""
    kim = crew["kim"]
    login_fresh(client, kim)
    _open_material(client, core_request)
    response = _decide(client, core_request, outcome="approved")
    assert response.status_code == 302
    decision = Decision.objects.get(request=core_request)
    assert (decision.signer, decision.authority_amount) == (kim, 4000)
    html = client.get(response["Location"]).content.decode()
    assert "Beslutet är undertecknat." in html
    assert f"Bifall</strong> – 4{NBSP}000{NBSP}kr" in html
    assert "Underteckna beslutet" not in html


def test_return_for_completion_lists_what_is_missing(client, core_request, crew):
    """A return records what is missing; the page shows it under the decision."""
    login_fresh(client, crew["kim"])
    _open_material(client, core_request)
    response = _decide(client, core_request, outcome="returned", motivation="Intyg för mars.")
    html = client.get(response["Location"]).content.decode()
    assert "Saknas: Intyg för mars." in html


def test_refusal_without_motivation_is_shown_again_with_the_error(client, core_request, crew):
    """The form comes back (400) with the error at the field; nothing is signed."""
    login_fresh(client, crew["kim"])
    _open_material(client, core_request)
    response = _decide(client, core_request, outcome="refused")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert 'id="motivation-error">Skriv en motivering till beslutet.' in html
    assert 'aria-invalid="true"' in html
    assert not Decision.objects.exists()


def test_return_without_what_is_missing_is_refused(client, core_request, crew):
    """A return must say what is missing."""
    login_fresh(client, crew["kim"])
    _open_material(client, core_request)
    response = _decide(client, core_request, outcome="returned", motivation="  ")
    assert "Ange vad som saknas." in response.content.decode()
    assert not Decision.objects.exists()


def test_gate_refusal_is_explained_in_swedish(client, core_request, crew):
    """Signing without opening the material: refused, explained, logged, nothing signed."""
    login_fresh(client, crew["kim"])
    response = _decide(client, core_request, outcome="approved")
    # Shown again, not redirected: the form keeps what was typed (issue 9, point 15).
    assert response.status_code == 409
    html = response.content.decode()
    assert "Öppna beslutsunderlaget innan du beslutar." in html
    assert not Decision.objects.exists()
    assert AuditEvent.objects.filter(kind=Kind.DECISION_REFUSED).count() == 1


def test_second_signature_from_the_case_page(client, core_request, crew):
    """With a second-signer rule, Kai confirms Kim's decision from the page."""
    SecondSignerRule.objects.create(
        unit=core_request.unit,
        decision_type=core_request.decision_type,
        valid_from=date(2026, 1, 1),
    )
    login_fresh(client, crew["kim"])
    _open_material(client, core_request)
    response = _decide(client, core_request, outcome="approved")
    anna_html = client.get(response["Location"]).content.decode()
    assert "Beslutet behöver nu en andra underskrift." in anna_html
    assert "Underteckna som andra undertecknare" not in anna_html  # not for the first signer
    login_fresh(client, crew["kai"])
    html = client.get(f"/cases/{core_request.case_id}/").content.decode()
    assert "Kim Kvist undertecknade: Bifall" in html
    _open_material(client, core_request)
    client.post(
        f"/requests/{core_request.pk}/decide/",
        {"material_sha256": core_request.material.sha256, "outcome": "approved", "motivation": ""},
    )
    core_request.refresh_from_db()
    assert core_request.status == "decided"
    assert Decision.objects.get(request=core_request).cosignature.signer == crew["kai"]


# --- language ----------------------------------------------------------------------------


def test_english_on_request(client, core_request, crew, settings):
    """With English chosen, the page and its amounts are in English."""
    login_fresh(client, crew["kim"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(f"/cases/{core_request.case_id}/").content.decode()
    assert '<html lang="en">' in html
    assert "Sign decision" in html
    _open_material(client, core_request)
    response = _decide(client, core_request, outcome="approved")
    html = client.get(response["Location"]).content.decode()
    assert f"4,000{NBSP}kr" in html


def test_language_switch(client, core_request, crew):
    """The language form switches to English and back."""
    login_fresh(client, crew["kim"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "My cases" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "sv", "next": "/"})
    assert "Mina ärenden" in client.get("/").content.decode()


def test_staff_without_unit_sees_the_page_without_actions(client, core_request, crew):
    """A unit-less human with a grant (e.g. a moved employee) can read but not act."""
    moved = User.objects.create_user("moved")
    Staff.objects.create(user=moved, unit=None, role=Staff.Role.CASEWORKER)
    moved.groups.add(*crew["kim"].groups.all())
    html = _page(client, moved, core_request)
    assert "Underteckna beslutet" not in html and "Ta ärendet" not in html


# --- changing single lines -----------------------------------------------------------------

RENT_REASON = "Hyran överstiger skälig nivå."
