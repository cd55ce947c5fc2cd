"""The flow's steps as plain functions: ids in, ids and counts out, personal data stays here.

The nightly run (flow.bibliotek_aterlan without a case id):

1. night_open: the night's own case (``aterlan-YYYY-MM-DD``), the robot's account as opener;
2. renewals_perform: SIP2 login, SC status, tonight's loans, one Renew per loan. Each loan
   is claimed in the database (LoanRenewal) *before* Renew is sent, so that no re-run ever
   renews a loan twice;
3. exceptions_open: one case per refused loan (``aterlan-YYYY-MM-DD-<item>``) with its
   material, waiting in the librarians' queue;
4. notices_send: one e-mail per patron, renewed and refused alike, at once;
5. night_complete: the night case is completed as the robot's act.

Each exception case then has its own flow run (started by case_open's outbox command)
that waits for the librarian's settlement and carries it out (settlement_carry_out).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from approvals import services
from approvals.models import ApprovalRequest, Case, ExceptionSettlement
from municipality.models import Staff

from .config import due_within_days, library_connection
from .export import loans_export_parse, loans_export_read
from .models import LoanRenewal
from .notices import notice_for_patron
from .process import DECISION_TYPE, LET_RUN_OUT, PROCESS, RENEWED_BY_HAND
from .renewals import library_status_check, loans_from_patrons
from .rules import (
    EXCEPTION,
    RENEWED,
    DueLoan,
    Reason,
    RenewalOutcome,
    due_loan_from_export,
    loans_due,
    renewal_classify,
    renewal_error,
)
from .sip2 import SIP2Client, SIP2Error

ROBOT_USERNAME = "bibliotek-robot"
COMPILED_BY = "robot:bibliotek-aterlan"
# The renewal rules' version (flows/bibliotek_aterlan/rules.py) named on each material.
RULES_VERSION = "aterlan-2026-12"

NIGHT = "night"
LOAN = "loan"

# Why the library system refused, as the librarian reads it.
REASON_LABEL_SV = {
    Reason.RESERVED: "Reserverad av annan låntagare",
    Reason.LIMIT_REACHED: "Max antal omlån uppnått",
    Reason.PATRON_BLOCKED: "Lånekortet är spärrat",
    Reason.NOT_RENEWABLE: "Medietypen får inte lånas om",
    Reason.ERROR: "Inget användbart svar från bibliotekssystemet",
}

ROBOT_ACCOUNT_MISSING = "ROBOT_ACCOUNT_MISSING"


class StepError(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


def robot_account():
    """The robot's own account: every case it opens names it (Staff.Kind.ROBOT)."""
    staff = (
        Staff.objects.select_related("user")
        .filter(user__username=ROBOT_USERNAME, kind=Staff.Kind.ROBOT)
        .first()
    )
    if staff is None:
        raise StepError(
            f"robot account {ROBOT_USERNAME!r} is missing (manage.py load_demo creates it)",
            code=ROBOT_ACCOUNT_MISSING,
        )
    return staff.user


def case_kind(case_id: int) -> str:
    """ "night" for a night's case, "loan" for a refused loan's exception case."""
    return Case.objects.values_list("payload", flat=True).get(pk=case_id).get("kind", LOAN)


# --- the nightly run ---------------------------------------------------------------------


def night_open(*, today: dt.date, flow_run_id: str | None) -> int:
    """The night's case, opened once per night; a re-run gets the same case back."""
    payload = {"kind": NIGHT, "night": today.isoformat()}
    with transaction.atomic():
        case, _ = services.case_open(
            spec=PROCESS,
            external_ref=f"aterlan-{today.isoformat()}",
            raw_body=json.dumps(payload),
            payload=payload,
            opened_by=robot_account(),
        )
        # In the same transaction: the night case's own START (outbox) then finds the case
        # carried out by this run and does nothing.
        if flow_run_id:
            services.case_flow_started(case_id=case.pk, flow_run_id=flow_run_id)
    return case.pk


def _claim(*, loan: DueLoan, night: dt.date, night_case_id: int) -> LoanRenewal | None:
    """The loan's row, created now; None when some run already handled this loan state."""
    try:
        with transaction.atomic():
            return LoanRenewal.objects.create(
                night=night,
                night_case_id=night_case_id,
                patron_id=loan.patron_id,
                item_id=loan.item_id,
                title=loan.title[:300],
                due_date=loan.due_date,
                patron_name=loan.patron_name[:200],
                patron_email=loan.patron_email[:254],
            )
    except IntegrityError:
        return None


# A claimed loan whose outcome was never stored: the run stopped between claim and answer.
INTERRUPTED_AFTER = dt.timedelta(minutes=15)
INTERRUPTED_DETAIL = (
    "the run stopped after claiming this loan: Renew may or may not have reached the "
    "library system; check the loan there"
)


def interrupted_to_exceptions(*, now: dt.datetime | None = None) -> int:
    """Claimed loans left without an outcome by a run that stopped go to a librarian: the
    robot cannot know whether its Renew arrived, and must not send it again blindly."""
    cutoff = (now or timezone.now()) - INTERRUPTED_AFTER
    return LoanRenewal.objects.filter(
        status=LoanRenewal.Status.PENDING, created_at__lt=cutoff
    ).update(status=LoanRenewal.Status.EXCEPTION, reason=Reason.ERROR, detail=INTERRUPTED_DETAIL)


def _store(row: LoanRenewal, outcome: RenewalOutcome) -> None:
    row.status = (
        LoanRenewal.Status.RENEWED if outcome.status == RENEWED else LoanRenewal.Status.EXCEPTION
    )
    row.reason = outcome.reason or ""
    row.screen_message = outcome.screen_message
    row.detail = outcome.detail
    row.new_due_date = outcome.new_due_date
    row.save(update_fields=["status", "reason", "screen_message", "detail", "new_due_date"])


def _loans(*, connection, client: SIP2Client) -> list[DueLoan]:
    rows = []
    if connection.export_csv is not None:
        rows = loans_export_parse(connection.export_csv)
    elif connection.export_path:
        rows = loans_export_read(connection.export_path)
    loans = [due_loan_from_export(r) for r in rows]
    if connection.patron_ids:
        loans += loans_from_patrons(client=client, patron_ids=list(connection.patron_ids))
    return loans


def renewals_perform(*, night_case_id: int, today: dt.date, flow_run_id: str | None) -> dict:
    """Renew tonight's due loans over SIP2; returns counts (no card numbers, no names)."""
    night = dt.date.fromisoformat(Case.objects.get(pk=night_case_id).payload["night"])
    within = due_within_days()
    counts: Counter = Counter()
    interrupted = interrupted_to_exceptions()
    if interrupted:
        counts["interrupted_earlier"] = interrupted
    with library_connection(today=today) as connection:
        with SIP2Client(
            connection.host,
            connection.port,
            institution=connection.institution,
            timeout=connection.timeout,
        ) as client:
            client.login(connection.user, connection.password, location=connection.location)
            acs = library_status_check(client=client)
            due = loans_due(
                _loans(connection=connection, client=client), today=today, within_days=within
            )
            for loan in due:
                row = _claim(loan=loan, night=night, night_case_id=night_case_id)
                if row is None:
                    counts["already_handled"] += 1
                    continue
                try:
                    outcome = renewal_classify(
                        loan=loan, response=client.renew(loan.patron_id, loan.item_id)
                    )
                except SIP2Error as exc:
                    outcome = renewal_error(loan=loan, error=exc)
                _store(row, outcome)
                counts[outcome.status] += 1
                if outcome.reason:
                    counts[f"reason_{outcome.reason}"] += 1
            transport = {"reconnects": client.reconnects, "resends": client.resends}
    result = {"due": len(due), **dict(sorted(counts.items()))}
    services.robot_step_record(
        case_id=night_case_id,
        step="renew",
        inputs={
            "due_within_days": within,
            "library": acs.institution,
            "simulated_library": connection.simulated,
        },
        outputs={**result, **transport},
        flow_run_id=flow_run_id or "",
    )
    return result


def _loan_context(row: LoanRenewal) -> dict:
    return {
        "loan_id": row.pk,
        "patron_id": row.patron_id,
        "patron_name": row.patron_name,
        "item_id": row.item_id,
        "title": row.title,
        "due_date": row.due_date.isoformat(),
        "reason": row.reason,
        "reason_label": REASON_LABEL_SV.get(row.reason, row.reason),
        "screen_message": row.screen_message,
        "detail": row.detail,
        "night": row.night.isoformat(),
    }


def exception_material(*, case_id: int) -> int:
    """The exception's material (version 1) and its open request; idempotent. Returns its id."""
    row = LoanRenewal.objects.get(exception_case_id=case_id)
    loan = _loan_context(row)
    opened = services.material_compile(
        case_id=case_id,
        version=1,
        context={"loan": loan, "patron_email": row.patron_email, "rules": RULES_VERSION},
        proposal={
            "loan_id": row.pk,
            "reason": row.reason,
            "actions": [RENEWED_BY_HAND, LET_RUN_OUT],
        },
        flags=[{"text": loan["reason_label"], "severity": "warning", "origin": "sip2"}],
        ruleset_version=RULES_VERSION,
        compiled_by=COMPILED_BY,
        summary=f"{row.title} – {loan['reason_label']}",
        decision_type=DECISION_TYPE,
        request_kind=ApprovalRequest.Kind.EXCEPTION,
    )
    return opened.request_id


def exceptions_open(*, night_case_id: int, flow_run_id: str | None) -> dict:
    """One case per refused loan of the night, with its material in the librarians' queue."""
    robot = robot_account()
    opened = 0
    # This night's refusals, and any an earlier run stored but did not get to open.
    rows = (
        LoanRenewal.objects.filter(status=LoanRenewal.Status.EXCEPTION)
        .filter(Q(night_case_id=night_case_id) | Q(exception_case__isnull=True))
        .order_by("pk")
    )
    for row in rows:
        if row.exception_case_id is None:
            payload = {"kind": LOAN, **_loan_context(row)}
            with transaction.atomic():
                case, created = services.case_open(
                    spec=PROCESS,
                    external_ref=f"aterlan-{row.night.isoformat()}-{row.item_id}",
                    raw_body=json.dumps(payload, ensure_ascii=False),
                    payload=payload,
                    opened_by=robot,
                )
                row.exception_case = case
                row.save(update_fields=["exception_case"])
            opened += created
        if not Case.objects.get(pk=row.exception_case_id).materials.exists():
            exception_material(case_id=row.exception_case_id)
    waiting = rows.filter(exception_case__status=Case.Status.AWAITING_PERSON).count()
    services.robot_step_record(
        case_id=night_case_id,
        step="exceptions",
        inputs={},
        outputs={"opened": opened, "waiting": waiting},
        flow_run_id=flow_run_id or "",
    )
    return {"opened": opened, "waiting": waiting}


def _outcome(row: LoanRenewal) -> RenewalOutcome:
    loan = DueLoan(
        patron_id=row.patron_id,
        item_id=row.item_id,
        title=row.title,
        due_date=row.due_date,
        patron_name=row.patron_name,
        patron_email=row.patron_email,
    )
    status = RENEWED if row.status == LoanRenewal.Status.RENEWED else EXCEPTION
    return RenewalOutcome(loan, status, row.reason or None, row.new_due_date, row.screen_message)


def notices_send(*, night_case_id: int, flow_run_id: str | None) -> dict:
    """One e-mail per patron with the night's renewed and refused loans, sent once."""
    by_patron: dict[str, list[LoanRenewal]] = defaultdict(list)
    rows = LoanRenewal.objects.filter(
        night_case_id=night_case_id,
        notice_sent_at__isnull=True,
        status__in=[LoanRenewal.Status.RENEWED, LoanRenewal.Status.EXCEPTION],
    ).order_by("pk")
    for row in rows:
        by_patron[row.patron_id].append(row)
    sent = without_address = 0
    for patron_id, items in sorted(by_patron.items()):
        first = items[0]
        if not first.patron_email:
            without_address += 1
            continue
        notice = notice_for_patron(
            patron_id=patron_id,
            name=first.patron_name,
            email=first.patron_email,
            outcomes=[_outcome(r) for r in items],
        )
        send_mail(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [notice.to])
        LoanRenewal.objects.filter(pk__in=[r.pk for r in items]).update(
            notice_sent_at=timezone.now()
        )
        sent += 1
    result = {"sent": sent, "without_address": without_address}
    services.robot_step_record(
        case_id=night_case_id,
        step="notices",
        inputs={},
        outputs=result,
        flow_run_id=flow_run_id or "",
    )
    return result


def night_complete(*, night_case_id: int, summary: dict) -> str:
    """The night's renewals are the robot's act: the night case completes without a person."""
    case = services.case_complete_by_robot(
        case_id=night_case_id, step="night", outcome="done", data=summary
    )
    return case.status


def night_run(*, today: dt.date | None = None, flow_run_id: str | None = None) -> dict:
    """The whole night without Prefect (tests, and the flow's steps one by one)."""
    today = today or timezone.localdate()
    night_case_id = night_open(today=today, flow_run_id=flow_run_id)
    renewed = renewals_perform(night_case_id=night_case_id, today=today, flow_run_id=flow_run_id)
    exceptions = exceptions_open(night_case_id=night_case_id, flow_run_id=flow_run_id)
    notices = notices_send(night_case_id=night_case_id, flow_run_id=flow_run_id)
    summary = {"renewals": renewed, "exceptions": exceptions, "notices": notices}
    night_complete(night_case_id=night_case_id, summary=summary)
    return {"night_case_id": night_case_id, **summary}


# --- an exception case -------------------------------------------------------------------

SETTLEMENT_UNKNOWN = "SETTLEMENT_UNKNOWN"


def settlement_of(*, request_id: int) -> int | None:
    return (
        ExceptionSettlement.objects.filter(request_id=request_id)
        .values_list("pk", flat=True)
        .first()
    )


def settlement_verify(*, request_id: int, settlement_id: int) -> int:
    """A resume claims a settlement: it must be the one recorded for this very request."""
    if not ExceptionSettlement.objects.filter(pk=settlement_id, request_id=request_id).exists():
        raise StepError(
            f"no settlement {settlement_id} for request {request_id}", code=SETTLEMENT_UNKNOWN
        )
    return settlement_id


def _settlement_notice(row: LoanRenewal, settlement: ExceptionSettlement) -> bool:
    if (
        row.settlement_notice_sent_at is not None
        or not row.patron_email
        or settlement.action != RENEWED_BY_HAND
    ):
        return False
    greeting = f"Hej {row.patron_name}!" if row.patron_name else "Hej!"
    body = (
        f"{greeting}\n\nBiblioteket har lånat om {row.title} (exemplar {row.item_id}) åt dig.\n"
        f"Ny återlämningsdag: {row.settled_due_date.isoformat()}.\n\n"
        "Vänliga hälsningar\nBiblioteket\n\nDet här meddelandet är skickat automatiskt."
    )
    send_mail("Ditt lån har lånats om", body, settings.DEFAULT_FROM_EMAIL, [row.patron_email])
    row.settlement_notice_sent_at = timezone.now()
    row.save(update_fields=["settlement_notice_sent_at"])
    return True


def settlement_carry_out(*, request_id: int, flow_run_id: str | None) -> str:
    """Carry out a librarian's settlement: note it on the loan, tell the patron a new due
    date, and complete the case as the robot's act. Idempotent; returns the action."""
    settlement = ExceptionSettlement.objects.select_related("request").get(request_id=request_id)
    case_id = settlement.request.case_id
    with transaction.atomic():
        row = LoanRenewal.objects.select_for_update().get(exception_case_id=case_id)
        first = not row.settled_action
        if first:
            row.settled_action = settlement.action
            new_due = settlement.data.get("new_due_date")
            row.settled_due_date = dt.date.fromisoformat(new_due) if new_due else None
            row.save(update_fields=["settled_action", "settled_due_date"])
    notified = _settlement_notice(row, settlement)
    if first or notified:
        services.robot_step_record(
            case_id=case_id,
            step="settlement",
            inputs={"settlement": settlement.pk},
            outputs={"action": settlement.action, "patron_notified": notified},
            flow_run_id=flow_run_id or "",
        )
    services.case_complete_by_robot(
        case_id=case_id,
        step="settlement",
        outcome=settlement.action,
        data={"settlement": settlement.pk},
    )
    return settlement.action


# --- the operators' catalogue --------------------------------------------------------------


def automation(*, since) -> dict:
    """Loans handled since `since`, and how many the robot renewed without a person."""
    rows = LoanRenewal.objects.filter(created_at__gte=since).exclude(
        status=LoanRenewal.Status.PENDING
    )
    return {
        "handled": rows.count(),
        "automatic": rows.filter(status=LoanRenewal.Status.RENEWED).count(),
    }
