"""The renewal rules: the due window and what each Renew Response means."""

import datetime as dt

import pytest

from flows.bibliotek_aterlan.rules import (
    EXCEPTION,
    RENEWED,
    WOULD_RENEW,
    DueLoan,
    Reason,
    loans_due,
    reason_from_screen_messages,
    renewal_classify,
    renewal_error,
    renewal_expectation,
)
from flows.bibliotek_aterlan.sip2 import ItemInfo, PatronInfo, RenewResult, SIP2TimeoutError

TODAY = dt.date(2026, 12, 1)


def loan(**changes):
    values = dict(
        patron_id="2600100001",
        item_id="3900000000011",
        title="Kallocain",
        due_date=TODAY + dt.timedelta(days=2),
        item_type="bok",
        renewable=True,
        renewals=0,
        renewal_limit=3,
        holds_by_others=0,
        patron_blocked=False,
        patron_name="Astrid Testsson",
        patron_email="astrid.testsson@example.org",
    )
    values.update(changes)
    return DueLoan(**values)


def answer(ok, *messages, due=None, item="3900000000011"):
    return RenewResult(
        ok=ok,
        renewal_ok=ok,
        patron_id="2600100001",
        item_id=item,
        title="Kallocain",
        due_date=due,
        screen_messages=list(messages),
        print_lines=[],
    )


def test_due_window_includes_the_last_day_and_overdue_loans():
    """Due on or before today + N (overdue too), earliest first; later loans are left."""
    loans = [loan(item_id=str(n), due_date=TODAY + dt.timedelta(days=n)) for n in (4, 3, -1, 0)]
    assert [x.item_id for x in loans_due(loans, today=TODAY, within_days=3)] == ["-1", "0", "3"]
    assert loans_due(loans, today=TODAY, within_days=0)[-1].item_id == "0"


def test_negative_window_is_refused():
    with pytest.raises(ValueError):
        loans_due([], today=TODAY, within_days=-1)


def test_ok_with_new_due_date_is_renewed():
    new_due = TODAY + dt.timedelta(days=30)
    outcome = renewal_classify(loan=loan(), response=answer(True, "Omlånad.", due=new_due))
    assert (outcome.status, outcome.reason, outcome.new_due_date) == (RENEWED, None, new_due)


def test_ok_without_due_date_is_an_error_exception():
    """ok=1 but no readable AH: the patron cannot be told the date, so a person looks."""
    outcome = renewal_classify(loan=loan(), response=answer(True))
    assert (outcome.status, outcome.reason) == (EXCEPTION, Reason.ERROR)
    assert "AH" in outcome.detail


def test_ok_is_renewed_even_when_the_export_foresaw_a_refusal():
    """The library system's answer is the authority; the export's data never overrides ok=1."""
    due = TODAY + dt.timedelta(days=30)
    outcome = renewal_classify(loan=loan(holds_by_others=2), response=answer(True, due=due))
    assert outcome.status == RENEWED


def test_answer_about_another_item_is_an_error():
    outcome = renewal_classify(loan=loan(), response=answer(True, due=TODAY, item="999"))
    assert outcome.reason == Reason.ERROR and "999" in outcome.detail


@pytest.mark.parametrize(
    "message, reason",
    [
        ("Reserverad av annan låntagare.", Reason.RESERVED),
        ("on_reserve", Reason.RESERVED),
        ("Item on hold for another patron", Reason.RESERVED),
        ("Max antal omlån uppnått.", Reason.LIMIT_REACHED),
        ("too_many", Reason.LIMIT_REACHED),
        ("Renewal limit reached", Reason.LIMIT_REACHED),
        ("Lånekortet är spärrat. Kontakta biblioteket.", Reason.PATRON_BLOCKED),
        ("restriction", Reason.PATRON_BLOCKED),
        ("debarred", Reason.PATRON_BLOCKED),
        ("Medietypen kan inte lånas om.", Reason.NOT_RENEWABLE),
        ("item_denied_renewal", Reason.NOT_RENEWABLE),
    ],
)
def test_refusal_reason_from_screen_message(message, reason):
    """ok=0: the screen message names the reason (Swedish text or Koha's codes)."""
    outcome = renewal_classify(loan=loan(), response=answer(False, message))
    assert (outcome.status, outcome.reason) == (EXCEPTION, reason)
    assert outcome.screen_message == message


def test_screen_message_wins_over_the_export():
    """The answer's own reason is taken even when the export's data suggests another."""
    outcome = renewal_classify(
        loan=loan(renewals=3), response=answer(False, "Reserverad av annan låntagare.")
    )
    assert outcome.reason == Reason.RESERVED


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"patron_blocked": True, "holds_by_others": 1}, Reason.PATRON_BLOCKED),
        ({"renewable": False, "holds_by_others": 1}, Reason.NOT_RENEWABLE),
        ({"holds_by_others": 1, "renewals": 3}, Reason.RESERVED),
        ({"renewals": 3}, Reason.LIMIT_REACHED),
    ],
)
def test_refusal_without_message_takes_the_reason_from_the_export(changes, reason):
    """ok=0 with no or unknown text: the export's data explains it, in the rule order."""
    outcome = renewal_classify(loan=loan(**changes), response=answer(False, "Nej."))
    assert outcome.reason == reason
    assert outcome.detail == "reason from the loan data"


def test_unexplained_refusal_is_an_error():
    outcome = renewal_classify(loan=loan(), response=answer(False))
    assert outcome.reason == Reason.ERROR
    assert outcome.detail == "ok=0 without a known reason"


def test_unknown_data_does_not_invent_a_reason():
    """A SIP2-read loan has no renewal count: no limit_reached is guessed from None."""
    sip_loan = loan(renewals=None, renewal_limit=None, renewable=None, holds_by_others=None)
    assert renewal_classify(loan=sip_loan, response=answer(False)).reason == Reason.ERROR


def test_transport_error_becomes_an_error_exception():
    outcome = renewal_error(loan=loan(), error=SIP2TimeoutError("no answer"))
    assert (outcome.status, outcome.reason) == (EXCEPTION, Reason.ERROR)
    assert outcome.detail.startswith("sip2_timeout")


def test_screen_message_patterns_are_case_insensitive():
    assert reason_from_screen_messages(["ON_RESERVE"]) == Reason.RESERVED
    assert reason_from_screen_messages(["Välkommen"]) is None


def _patron(**status):
    flags = {"renewal_privileges_denied": False, **status}
    return PatronInfo("2600100001", "A", True, flags, [], [], [], None, [])


def _item(queue):
    return ItemInfo("3900000000011", "Kallocain", "charged", TODAY, queue, "001", "bok", [])


def test_dry_run_forecast():
    """Dry run: live patron status and hold queue, then the export's data, foresee refusals."""
    assert renewal_expectation(loan=loan(), patron=_patron(), item=_item(0)).status == WOULD_RENEW
    blocked = renewal_expectation(
        loan=loan(), patron=_patron(renewal_privileges_denied=True), item=_item(0)
    )
    assert blocked.reason == Reason.PATRON_BLOCKED
    assert renewal_expectation(loan=loan(), patron=_patron(), item=_item(2)).reason == (
        Reason.RESERVED
    )
    assert renewal_expectation(loan=loan(renewals=3)).reason == Reason.LIMIT_REACHED


def test_outcome_dict_has_no_name_or_email():
    """What goes to logs and JSON carries card and item numbers only, no name or e-mail."""
    data = renewal_classify(loan=loan(), response=answer(False, "too_many")).as_dict()
    text = str(data)
    assert "Astrid" not in text and "example.org" not in text
    assert data["reason"] == Reason.LIMIT_REACHED
