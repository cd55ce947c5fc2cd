"""The e-mail a patron gets after the night's run: what was renewed, what was not and why.

Only the content (Swedish, plain text); phase 2 sends it with Django's mail. One e-mail per
patron and run, so that a patron with five loans due gets one message, not five.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .rules import EXCEPTION, RENEWED, Reason, RenewalOutcome

# Why a loan was not renewed, as the patron reads it.
REASON_TEXT_SV = {
    Reason.RESERVED: "en annan låntagare har reserverat den",
    Reason.LIMIT_REACHED: "den har redan lånats om så många gånger som är tillåtet",
    Reason.PATRON_BLOCKED: "ditt lånekort är spärrat – kontakta biblioteket",
    Reason.NOT_RENEWABLE: "den här typen av lån kan inte lånas om",
    Reason.ERROR: "ett tekniskt fel hindrade omlånet – biblioteket tittar på det",
}

SIGNATURE_SV = "Vänliga hälsningar\nBiblioteket\n\nDet här meddelandet är skickat automatiskt."


@dataclass(frozen=True)
class PatronNotice:
    patron_id: str
    to: str  # empty when the library system has no e-mail address for the patron
    subject: str
    body: str


def _line(outcome: RenewalOutcome) -> str:
    return f"• {outcome.loan.title} (exemplar {outcome.loan.item_id})"


def notice_for_patron(
    *, patron_id: str, name: str, email: str, outcomes: Iterable[RenewalOutcome]
) -> PatronNotice:
    """The e-mail for one patron; ``outcomes`` are that patron's renewed and refused loans."""
    outcomes = list(outcomes)
    renewed = [o for o in outcomes if o.status == RENEWED]
    refused = [o for o in outcomes if o.status == EXCEPTION]
    if not renewed and not refused:
        raise ValueError("a notice needs at least one renewed or refused loan")
    if refused and renewed:
        subject = "Några av dina lån har lånats om – andra måste lämnas tillbaka"
    elif refused:
        subject = (
            "Dina lån kunde inte lånas om" if len(refused) > 1 else "Ditt lån kunde inte lånas om"
        )
    else:
        subject = "Dina lån har lånats om" if len(renewed) > 1 else "Ditt lån har lånats om"
    parts = [f"Hej {name}!" if name else "Hej!", ""]
    if renewed:
        parts.append("Vi har lånat om följande åt dig:")
        parts += [f"{_line(o)} – ny återlämningsdag {o.new_due_date.isoformat()}" for o in renewed]
        parts.append("")
    if refused:
        parts.append("Följande kunde inte lånas om:")
        parts += [
            f"{_line(o)} – lämna tillbaka senast {o.loan.due_date.isoformat()}, eftersom "
            f"{REASON_TEXT_SV[o.reason or Reason.ERROR]}."
            for o in refused
        ]
        parts.append("")
        parts.append(
            "Har du frågor om ett lån som inte kunde lånas om? Kontakta biblioteket, så "
            "hjälper vi dig."
        )
        parts.append("")
    parts.append(SIGNATURE_SV)
    return PatronNotice(patron_id=patron_id, to=email, subject=subject, body="\n".join(parts))


def notices_for_run(outcomes: Iterable[RenewalOutcome]) -> list[PatronNotice]:
    """One notice per patron with a renewed or refused loan (dry-run outcomes get none)."""
    by_patron: dict[str, list[RenewalOutcome]] = {}
    for outcome in outcomes:
        if outcome.status in (RENEWED, EXCEPTION):
            by_patron.setdefault(outcome.loan.patron_id, []).append(outcome)
    notices = []
    for patron_id, items in sorted(by_patron.items()):
        loan = items[0].loan
        notices.append(
            notice_for_patron(
                patron_id=patron_id,
                name=loan.patron_name,
                email=loan.patron_email,
                outcomes=items,
            )
        )
    return notices
