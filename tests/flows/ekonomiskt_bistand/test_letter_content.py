"""Letters a municipality can send (issue 9, points 7 and 8), read back from the PDF."""

from datetime import timedelta

import pytest
from django.utils import timezone

from flows.ekonomiskt_bistand.process import DECISION_TYPE
from municipality.models import SecondSignerRule
from tests.conftest import compile_case, demo_application, receive, text_of
from tests.gate_helpers import carry_out, decide

pytestmark = pytest.mark.django_db


def _letter(decision) -> str:
    return text_of(decision.documents.get().pdf)


def test_letter_names_the_authority_its_contacts_and_the_handling_officer(org):
    decision = carry_out(
        decide(compile_case(receive(org, demo_application())), org["users"]["anna"])
    )
    text = _letter(decision)
    assert "Exempelby kommun" in text and "Socialnämnden" in text
    assert "Box 100, 123 45 Exempelby" in text and "0123-45 67 00" in text
    assert "Handläggare Anna Lind" in text


def test_a_joint_application_addresses_both_applicants(org):
    request = compile_case(receive(org, demo_application("etj-2026-000102")))
    text = _letter(carry_out(decide(request, org["users"]["anna"])))
    assert "Johan Berg" in text and "Maria Berg" in text


def test_a_cosigned_letter_names_both_signers(org):
    SecondSignerRule.objects.create(
        unit=org["unit"],
        decision_type=DECISION_TYPE,
        above_amount=None,
        valid_from=timezone.localdate() - timedelta(days=30),
    )
    request = compile_case(receive(org, demo_application()))
    decide(request, org["users"]["anna"])
    request.refresh_from_db()
    decision = decide(request, org["users"]["maria"])
    text = _letter(carry_out(decision))
    assert "Anna Lind" in text and "Maria Holm" in text and "även undertecknats" in text


def test_motivation_names_the_register_values_that_replaced_the_declared(org):
    """etj-2026-000101: the housing allowance in the register replaced the declared one."""
    request = compile_case(receive(org, demo_application()))
    text = _letter(carry_out(decide(request, org["users"]["anna"])))
    assert "hämtats från myndigheternas register och ersatt det du uppgav" in text
    assert "Bostadsbidrag" in text and "sökande uppgav" in text
    # The rule behind each line is printed under it.
    assert "12 kap." in text


def test_a_refusal_keeps_the_appeal_section_together_and_gives_the_appeal_address(org):
    request = compile_case(receive(org, demo_application()))
    decision = carry_out(
        decide(request, org["users"]["anna"], outcome="refused", motivation="Ej rätt.")
    )
    text = _letter(decision)
    assert "Hur du överklagar" in text
    assert "Socialnämnden, Exempelby kommun, Box 100, 123 45 Exempelby" in text
    import io

    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(bytes(decision.documents.get().pdf))).pages
    # The whole appeal section is on one page.
    appeal_pages = [i for i, p in enumerate(pages) if "överklag" in (p.extract_text() or "")]
    assert len({i for i in appeal_pages if "tre veckor" in (pages[i].extract_text() or "")}) == 1
