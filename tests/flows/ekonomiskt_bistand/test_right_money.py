"""Right money and right words (issue 9, points 1, 2, 3, 5), with hand-worked figures."""

import pytest

from approvals import rules, services
from approvals.models import Decision
from approvals.templatetags.casework import kr as page_kr
from tests.conftest import compile_case, demo_application, receive, text_of
from tests.gate_helpers import carry_out, decide

pytestmark = pytest.mark.django_db


def _line(material, code):
    return next(
        line
        for section in ("income_lines", "cost_lines", "riksnorm_lines")
        for line in material.proposal[section]
        if line["code"] == code
    )


# --- 1. a child's own work income is the child's, whatever its source ------------------


def test_a_childs_register_work_income_is_not_household_salary(org, fast_pdf):
    """etj-2026-000102: the register's 1 540 kr for the 16-year-old is the child's own work
    income (disregarded up to the ceiling), not part of the household's 18 400 kr salary."""
    request = compile_case(receive(org, demo_application("etj-2026-000102")))
    material = request.material
    salary = _line(material, "income.salary_net")
    assert salary["amount"] == 18_400  # Johan's salary in the register; Maria has none
    assert salary["origin"] == "register"
    child = _line(material, "income.child_work.1")
    assert (child["amount"], child["origin"]) == (1540, "register")
    assert _line(material, "income.child_work_disregard.1")["amount"] == -1540
    # Incomes counted: 18 400 salary + the child's 1 540 − 1 540 disregarded + the rest;
    # the child's income adds nothing to the household's.
    counted = sum(line["amount"] for line in material.proposal["income_lines"])
    assert counted == material.proposal["incomes"]
    others = sum(
        line["amount"]
        for line in material.proposal["income_lines"]
        if not line["code"].startswith(("income.salary_net", "income.child_work"))
        and line["code"] != "income.work_income_disregard"
    )
    assert material.proposal["incomes"] == 18_400 + others


def test_child_work_income_from_the_register_replaces_the_declared_one(org, fast_pdf):
    """Declared 500 kr, the register says 1 540: the register's figure is used, and shown."""
    application = demo_application("etj-2026-000102")
    application["external_ref"] = "etj-2026-child-declared"
    application["children"][0]["work_income"] = 500
    material = compile_case(receive(org, application)).material
    child = _line(material, "income.child_work.1")
    assert child["amount"] == 1540 and "sökande uppgav 500" in child["basis"]


# --- 2. one sign for a deduction --------------------------------------------------------


def test_a_deduction_is_written_with_one_minus_sign():
    """−3 475 kr with the typographic minus, never "-3 475" or "−-3 475"."""
    assert page_kr(-3475) == "\u22123\xa0475\xa0kr"
    assert page_kr(3475) == "3\xa0475\xa0kr"


def test_letter_and_material_print_no_double_minus(org):
    """The letter for a case with jobbstimulans and a child's disregarded work income."""
    application = demo_application("etj-2026-000102")
    application.update(external_ref="etj-2026-minus", months_on_assistance=8)
    request = compile_case(receive(org, application))
    material_text = text_of(request.material.pdf)
    decision = carry_out(decide(request, org["users"]["anna"]))
    letter_text = text_of(decision.documents.get().pdf)
    for text in (material_text, letter_text):
        assert "−-" not in text and "--" not in text and "−−" not in text
    assert "Jobbstimulans" in letter_text
    assert "−1 540 kr" in letter_text  # the child's disregarded income, one sign


# --- 3. more than proposed is an approval -------------------------------------------


def test_granting_more_than_proposed_is_an_approval(org, fast_pdf):
    """ "Approve another amount" above the proposal is bifall: no partial refusal, no appeal."""
    request = compile_case(receive(org, demo_application()))
    proposed = request.authority_amount
    decision = decide(
        request,
        org["users"]["anna"],
        outcome="partly_approved",
        amount=proposed + 335,
        motivation="Extra kostnad för glasögon.",
    )
    assert (decision.outcome, decision.authority_amount) == ("approved", proposed + 335)
    assert decision.followed_proposal is False


def test_granting_more_than_proposed_letter_says_bifall(org):
    request = compile_case(receive(org, demo_application()))
    proposed = request.authority_amount
    decision = carry_out(
        decide(
            request,
            org["users"]["anna"],
            outcome="partly_approved",
            amount=proposed + 335,
            motivation="Extra kostnad för glasögon.",
        )
    )
    text = text_of(decision.documents.get().pdf)
    assert "Beslut: Bifall" in text
    assert "avslag på resten" not in text and "överklaga" not in text


def test_approving_less_than_proposed_as_an_approval_is_refused(org, fast_pdf):
    """An "approval" of less would hide a partial refusal and its appeal instructions."""
    request = compile_case(receive(org, demo_application()))
    with pytest.raises(services.GateRefused) as exc:
        decide(request, org["users"]["anna"], amount=request.authority_amount - 1)
    assert exc.value.code == rules.DECISION_APPROVAL_BELOW_PROPOSAL
    assert not Decision.objects.exists()


def test_granting_less_than_proposed_stays_a_partial_refusal(org, fast_pdf):
    request = compile_case(receive(org, demo_application()))
    decision = decide(
        request,
        org["users"]["anna"],
        outcome="partly_approved",
        amount=request.authority_amount - 500,
        motivation="Hyran över riktvärdet.",
    )
    assert decision.outcome == "partly_approved"


# --- 5. following the proposal means its outcome ---------------------------------------


def test_refusing_a_zero_proposal_follows_the_proposal(org, fast_pdf):
    """A household whose incomes cover the norm gets a 0 kr proposal; refusing follows it."""
    application = demo_application()
    application.update(external_ref="etj-2026-zero")
    application["incomes"]["salary_net"] = 60_000
    application["incomes"]["other"] = [{"description": "Arv", "amount": 60_000}]
    request = compile_case(receive(org, application))
    assert request.authority_amount == 0
    decision = decide(
        request, org["users"]["anna"], outcome="refused", motivation="Inkomster täcker."
    )
    assert decision.followed_proposal is True


def test_refusing_a_positive_proposal_does_not_follow_it(org, fast_pdf):
    request = compile_case(receive(org, demo_application()))
    decision = decide(request, org["users"]["anna"], outcome="refused", motivation="Ej rätt.")
    assert decision.followed_proposal is False


# --- issue 10, point 3: the limit covers the sum the decision is about -------------------


def _big_case(org, ref):
    """A household whose proposal is above the caseworkers' 15 000 kr limit."""
    application = demo_application()
    application["external_ref"] = ref
    application["costs"]["rent"] = 25_000
    request = compile_case(receive(org, application))
    assert request.authority_amount > 15_000
    return request


def test_a_refusal_above_the_limit_needs_the_delegation_for_that_sum(org, fast_pdf):
    """Refusing a 2x xxx kr proposal outright is a decision about that sum: anna (15 000) may not."""
    request = _big_case(org, "etj-2026-big-refuse")
    with pytest.raises(services.GateRefused) as exc:
        decide(request, org["users"]["anna"], outcome="refused", motivation="Ej rätt.")
    assert exc.value.code == rules.DECISION_SIGNER_NOT_DELEGATED
    assert not Decision.objects.exists()
    decision = decide(request, org["users"]["maria"], outcome="refused", motivation="Ej rätt.")
    assert decision.outcome == "refused"


def test_granting_within_the_limit_while_refusing_the_rest_needs_the_whole_sum(org, fast_pdf):
    """Granting 15 000 of a larger proposal refuses the rest: the decision is about the whole."""
    request = _big_case(org, "etj-2026-big-partly")
    with pytest.raises(services.GateRefused) as exc:
        decide(
            request,
            org["users"]["anna"],
            outcome="partly_approved",
            amount=15_000,
            motivation="Hyran över riktvärdet.",
        )
    assert exc.value.code == rules.DECISION_SIGNER_NOT_DELEGATED


def test_a_return_needs_only_the_decision_type(org, fast_pdf):
    request = _big_case(org, "etj-2026-big-return")
    decision = decide(
        request, org["users"]["anna"], outcome="returned", motivation="Kontrakt saknas."
    )
    assert decision.outcome == "returned"


def test_a_read_by_someone_the_case_is_about_is_flagged_for_review(org, fast_pdf):
    """Issue 10, point 1: staff stored canonically (10 digits in) and compared with every
    party; a conflicted read is flagged in the access-log review."""
    from approvals import audit_selectors
    from approvals.models import AuditEvent
    from municipality.models import Staff

    request = compile_case(receive(org, demo_application("etj-2026-000102")))
    child = request.case.parties.get(role="child", personnummer="200906082383")
    anna = Staff.objects.get(user=org["users"]["anna"])
    anna.personnummer = child.personnummer[2:]  # typed with 10 digits
    anna.save()
    assert Staff.objects.get(pk=anna.pk).personnummer == child.personnummer
    services.case_access_record(user=org["users"]["anna"], case=request.case, what="case_page")
    event = AuditEvent.objects.filter(kind="case.viewed").latest("seq")
    assert event.data["conflict_of_interest"] is True
    assert audit_selectors.access_is_flagged(event)
    assert event in audit_selectors.access_log(filters={"unassigned_only": True})
    with pytest.raises(services.GateRefused) as exc:
        decide(request, org["users"]["anna"])
    assert exc.value.code == rules.DECISION_SIGNER_CONFLICT_OF_INTEREST
