"""The patrons' e-mails after a run, in Swedish."""

import datetime as dt

import pytest

from flows.bibliotek_aterlan.notices import notice_for_patron, notices_for_run
from flows.bibliotek_aterlan.rules import EXCEPTION, RENEWED, WOULD_RENEW, Reason, RenewalOutcome

from .test_rules import TODAY, loan


def renewed(item="1", title="Kallocain"):
    return RenewalOutcome(
        loan(item_id=item, title=title), RENEWED, new_due_date=TODAY + dt.timedelta(days=30)
    )


def refused(reason, item="2", title="Röda rummet"):
    return RenewalOutcome(loan(item_id=item, title=title), EXCEPTION, reason)


def test_renewed_notice():
    """A renewal: subject says so, the body gives the title and the new due date."""
    n = notice_for_patron(patron_id="p", name="Astrid", email="a@example.org", outcomes=[renewed()])
    assert n.subject == "Ditt lån har lånats om"
    assert "Hej Astrid!" in n.body
    assert "Kallocain (exemplar 1) – ny återlämningsdag 2026-12-31" in n.body
    assert "kunde inte" not in n.body
    assert n.to == "a@example.org"


@pytest.mark.parametrize(
    "reason, text",
    [
        (Reason.RESERVED, "en annan låntagare har reserverat den"),
        (Reason.LIMIT_REACHED, "så många gånger som är tillåtet"),
        (Reason.PATRON_BLOCKED, "ditt lånekort är spärrat"),
        (Reason.NOT_RENEWABLE, "den här typen av lån kan inte lånas om"),
        (Reason.ERROR, "ett tekniskt fel"),
    ],
)
def test_refused_notice_gives_the_reason_and_the_last_day(reason, text):
    n = notice_for_patron(patron_id="p", name="A", email="", outcomes=[refused(reason)])
    assert n.subject == "Ditt lån kunde inte lånas om"
    assert "lämna tillbaka senast 2026-12-03" in n.body
    assert text in n.body


def test_mixed_notice_lists_both():
    n = notice_for_patron(
        patron_id="p", name="A", email="", outcomes=[renewed(), refused(Reason.RESERVED)]
    )
    assert n.subject.startswith("Några av dina lån har lånats om")
    assert n.body.index("Vi har lånat om") < n.body.index("Följande kunde inte lånas om")


def test_one_notice_per_patron_and_none_for_dry_run():
    other = RenewalOutcome(loan(patron_id="2600100009", item_id="3"), RENEWED, new_due_date=TODAY)
    dry = RenewalOutcome(loan(patron_id="2600100008"), WOULD_RENEW)
    notices = notices_for_run([renewed(), refused(Reason.RESERVED), other, dry])
    assert [n.patron_id for n in notices] == ["2600100001", "2600100009"]
    assert notices[0].subject.startswith("Några")


def test_notice_needs_an_outcome():
    with pytest.raises(ValueError):
        notice_for_patron(patron_id="p", name="", email="", outcomes=[])
