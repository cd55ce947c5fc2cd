"""Kassaavstämning steps that the flow's tasks call.

Each function takes ids, reads and writes Django, and returns ids, hashes or counts:
nothing from the files passes through Prefect (there is no personal data in them, but
amounts and texts stay in Django all the same).

Two kinds of case (hooks.IMPORT, hooks.DIFFERENCE):

* an import case is reconciled: each matched or pending day is recorded as a robot
  step, each day with differences opens a difference case, and the import case then
  completes as the robot's act (the people's work lives in the difference cases);
* a difference case compiles its material, waits for the attestant's signature at
  the gate, and after verification gets its attest record (approved) or the
  question to the cash point (returned).
"""

from __future__ import annotations

import json
import logging
import math
import os
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from approvals import services
from approvals.models import Case, Decision, Document
from approvals.registry import APPROVED, RETURNED

from . import evidence
from .bankdays import banking_day_window
from .config import config_for
from .demo import ROBOT_USERNAME
from .demo_data import DEFAULT_FOLDER
from .hooks import DIFFERENCE, IMPORT
from .intake import ImportRefused, files_parse, folder_files, import_store
from .models import KassaImport
from .process import PROCESS
from .reconcile import DIFFERENCES, MATCHED, PENDING, DayResult, month_summary, reconcile

logger = logging.getLogger(__name__)

NO_CASH_POINT = "ingen-kassapunkt"
QUESTION_TEMPLATE = "kassaavstamning/question.html"
REPORT_TEMPLATE = "kassaavstamning/month_report.html"
ATTEST_TITLE = "Attest av kassadifferens"
QUESTION_TITLE = "Fråga till kassapunkten"


def robot_account() -> User:
    """The robot account that opens difference cases and files drop-folder imports."""
    return User.objects.get(username=ROBOT_USERNAME)


def difference_ref(cash_point: str | None, day: date | str) -> str:
    day = day if isinstance(day, str) else day.isoformat()
    return f"kassa-{cash_point or NO_CASH_POINT}-{day}"


def attest_amount_kr(differences: list[dict]) -> int:
    """The sum a signature attests: Σ|expected − found|, in whole kronor, öre rounded up.

    The delegation order's limits are in kronor; rounding up never lets a difference
    slip under a limit.
    """
    return math.ceil(sum(abs(d["expected"] - d["found"]) for d in differences) / 100)


def case_kind(*, case_id: int) -> str:
    return Case.objects.values_list("data", flat=True).get(pk=case_id).get("kind", IMPORT)


def case_started(*, case_id: int, flow_run_id: str) -> None:
    services.case_flow_started(case_id=case_id, flow_run_id=flow_run_id)
    services.robot_step_record(
        case_id=case_id,
        step="mark-started",
        inputs={"case": case_id},
        outputs={"status": "processing"},
        flow_run_id=flow_run_id,
    )


# -- import -------------------------------------------------------------------------------
def _day_inputs(result: DayResult) -> dict:
    return {
        "cash_point": result.cash_point,
        "date": result.date.isoformat(),
        "takings": dict(result.takings),
    }


def difference_payload(*, parsed, result: DayResult) -> dict:
    """A difference case's payload: the day, its figures, the evidence and each difference.

    Stable for the same facts, so that a later import repeating the same day finds the
    same case (case_open is idempotent per external_ref and content).
    """
    point = parsed.config.cash_point(result.cash_point) if result.cash_point else None
    return {
        "kind": DIFFERENCE,
        "cash_point": result.cash_point,
        "cash_point_name": point.name if point else "Ingen kassapunkt",
        "cost_centre": point.cost_centre if point else "",
        "date": result.date.isoformat(),
        "config_version": parsed.config.version,
        "takings": dict(result.takings),
        "differences": [d.as_dict() for d in result.differences],
        "notes": list(result.notes),
        "pending": list(result.pending),
        "z_reports": evidence.z_reports_for(
            till=parsed.till, cash_point=result.cash_point, day=result.date
        ),
        "bank_entries": evidence.bank_entries_for(
            bank=parsed.bank, config=parsed.config, cash_point=result.cash_point, day=result.date
        ),
        "vouchers": evidence.vouchers_for(
            ledger=parsed.ledger, config=parsed.config, cash_point=result.cash_point,
            day=result.date,
        ),
    }


def difference_open(*, payload: dict, import_case_id: int, flow_run_id: str) -> tuple[Case, bool]:
    """Open (or find) the difference case for one cash point's day; its own run starts."""
    case, created = services.case_open(
        spec=PROCESS,
        external_ref=difference_ref(payload["cash_point"], payload["date"]),
        raw_body=json.dumps(payload, ensure_ascii=False, sort_keys=True),
        payload=payload,
        opened_by=robot_account(),
    )
    if created:
        services.robot_step_record(
            case_id=case.pk,
            step="difference-found",
            inputs={"import_case": import_case_id},
            outputs={
                "kinds": sorted({d["kind"] for d in payload["differences"]}),
                "amount_kr": attest_amount_kr(payload["differences"]),
            },
            flow_run_id=flow_run_id,
        )
    return case, created


def import_reconcile(*, case_id: int, flow_run_id: str) -> dict:
    """Reconcile an import case's files; idempotent (a second call returns the counts).

    Matched and pending days are the robot's own acts (one step each on the import
    case); each day with differences opens its difference case; then the import case
    completes as the robot's act.
    """
    with transaction.atomic():
        row = KassaImport.objects.select_for_update().get(case_id=case_id)
        if row.reconciled_at is not None:
            return row_outcome(row)
        parsed = files_parse(**row.files())
        results = reconcile(
            bank=parsed.bank, ledger=parsed.ledger, till=parsed.till, config=parsed.config
        )
        counts = {MATCHED: 0, PENDING: 0, DIFFERENCES: 0}
        difference_cases, already_open = [], []
        for result in results:
            counts[result.status] += 1
            if result.status == DIFFERENCES:
                payload = difference_payload(parsed=parsed, result=result)
                try:
                    case, _ = difference_open(
                        payload=payload, import_case_id=case_id, flow_run_id=flow_run_id
                    )
                except services.ServiceError as exc:
                    # The day's case exists with other facts (an earlier import): it is
                    # not overwritten; the step says so and a person compares them.
                    ref = difference_ref(payload["cash_point"], payload["date"])
                    existing = Case.objects.get(process=PROCESS.slug, external_ref=ref)
                    already_open.append(existing.pk)
                    services.robot_step_record(
                        case_id=case_id,
                        step="difference-differs-from-open-case",
                        inputs=_day_inputs(result),
                        outputs={"case": existing.pk, "error": exc.code},
                        flow_run_id=flow_run_id,
                    )
                    continue
                difference_cases.append(case.pk)
                continue
            services.robot_step_record(
                case_id=case_id,
                step="day-matched" if result.status == MATCHED else "day-pending",
                inputs=_day_inputs(result),
                outputs={
                    "status": result.status,
                    "notes": list(result.notes),
                    "pending": list(result.pending),
                },
                flow_run_id=flow_run_id,
            )
        row.reconciled_at = timezone.now()
        row.save(update_fields=["reconciled_at"])
        outcome = {
            "matched": counts[MATCHED],
            "pending": counts[PENDING],
            "with_differences": counts[DIFFERENCES],
            "difference_cases": difference_cases,
            "differs_from_open_cases": already_open,
        }
        services.case_complete_by_robot(
            case_id=case_id,
            step="reconcile",
            outcome="reconciled",
            data={**outcome, "config_version": parsed.config.version},
        )
    return outcome


def row_outcome(row: KassaImport) -> dict:
    """The counts of an import already reconciled, read back from the files and its cases."""
    parsed = files_parse(**row.files())
    results = reconcile(
        bank=parsed.bank, ledger=parsed.ledger, till=parsed.till, config=parsed.config
    )
    refs = {difference_ref(r.cash_point, r.date) for r in results if r.status == DIFFERENCES}
    cases = Case.objects.filter(process=PROCESS.slug, external_ref__in=refs)
    return {
        "matched": sum(r.status == MATCHED for r in results),
        "pending": sum(r.status == PENDING for r in results),
        "with_differences": len(refs),
        "difference_cases": sorted(cases.values_list("pk", flat=True)),
        "differs_from_open_cases": [],
    }


# -- difference ---------------------------------------------------------------------------
def _flags(payload: dict) -> list[dict]:
    return [
        {"severity": "warning", "text": f"{d['kind']}: {d['detail']}", "origin": d["kind"]}
        for d in payload["differences"]
    ]


def material_prepare(*, case_id: int, flow_run_id: str) -> services.OpenedRequest:
    """Compile the day's material and open the attest request for the accounting unit."""
    case = Case.objects.get(pk=case_id)
    payload = case.payload
    amount = attest_amount_kr(payload["differences"])
    kinds = sorted({d["kind"] for d in payload["differences"]})
    opened = services.material_compile(
        case_id=case_id,
        version=1,
        context={"day": payload, "amount_kr": amount, "kinds": kinds},
        proposal={"amount": amount, "differences": payload["differences"]},
        flags=_flags(payload),
        ruleset_version=payload["config_version"],
        compiled_by="robot:kassaavstamning/compile-material",
        authority_amount=amount,
        summary=f"{payload['cash_point_name']} {payload['date']}: {', '.join(kinds)}",
        request_kind="decision",
    )
    services.robot_step_record(
        case_id=case_id,
        step="compile-material",
        inputs={"cash_point": payload["cash_point"], "date": payload["date"]},
        outputs={
            "differences": len(payload["differences"]),
            "amount_kr": amount,
            "material_sha256": opened.material_sha256,
        },
        flow_run_id=flow_run_id,
    )
    return opened


def decision_carry_out(*, decision_id: int, flow_run_id: str) -> str:
    """After the verified signature: the attest record, or the question to the cash point.

    decision_execute closes an attested case with the record; for a return it writes the
    question as the request for completion and marks the case returned.
    """
    decision = Decision.objects.select_related("request__case").get(pk=decision_id)
    case = decision.request.case
    context = {"day": case.payload, "amount_kr": attest_amount_kr(case.payload["differences"])}
    if decision.outcome == APPROVED:
        document = services.decision_execute(
            decision_id=decision_id,
            document_context=context,
            document_kind=Document.Kind.CERTIFICATE,
            title=ATTEST_TITLE,
        )
        return document.sha256
    # A return writes the controller's question (the process's completion_request template).
    document = services.decision_execute(decision_id=decision_id, document_context=context)
    if decision.outcome != RETURNED or document is None:
        return ""
    services.robot_step_record(
        case_id=case.pk,
        step="question-to-cash-point",
        inputs={"decision": decision.pk},
        outputs={"document": document.pk, "sha256": document.sha256},
        flow_run_id=flow_run_id,
    )
    return document.sha256


# -- month-end summary --------------------------------------------------------------------
def month_bounds(month: str) -> tuple[date, date]:
    year, mon = (int(x) for x in month.split("-"))
    first = date(year, mon, 1)
    last = (date(year + mon // 12, mon % 12 + 1, 1)) - timedelta(days=1)
    return first, last


def month_import(month: str) -> KassaImport | None:
    """The newest reconciled import whose Z-reports reach into the month."""
    first, last = month_bounds(month)
    return (
        KassaImport.objects.filter(
            reconciled_at__isnull=False, first_day__lte=last, last_day__gte=first
        )
        .order_by("-received_at", "-pk")
        .first()
    )


def month_complete(row: KassaImport, month: str) -> bool:
    """Whether the statement reaches past the money windows of the month's last day."""
    _, last = month_bounds(month)
    config = config_for(last.replace(day=1))
    longest = max(config.deposit_window[1], config.card_window[1], config.swish_window[1])
    due = banking_day_window(last, 0, longest)[1]
    return row.statement_last_day is not None and row.statement_last_day >= due


def _report_title(name: str, month: str) -> str:
    return f"Månadssammanställning {name} {month}"


def month_reports_write(*, month: str, flow_run_id: str = "command") -> list[Document]:
    """One report per cash point for `month`, on the case of the newest import covering it.

    Each open difference shows where its case stands (attested, returned, waiting).
    Idempotent per import case, cash point and month. ValueError when no reconciled
    import covers the month.
    """
    row = month_import(month)
    if row is None:
        raise ValueError(f"no reconciled import covers {month}")
    parsed = files_parse(**row.files())
    results = reconcile(
        bank=parsed.bank, ledger=parsed.ledger, till=parsed.till, config=parsed.config
    )
    documents = []
    cases = {
        c.external_ref: c
        for c in Case.objects.filter(process=PROCESS.slug, data__kind=DIFFERENCE)
    }
    for row_summary in month_summary(results, month=month):
        code = row_summary["cash_point"]
        point = parsed.config.cash_point(code) if code else None
        name = point.name if point else "Ingen kassapunkt"
        title = _report_title(name, month)
        existing = Document.objects.filter(case=row.case, kind=Document.Kind.REPORT, title=title)
        if existing.exists():
            documents.append(existing.first())
            continue
        for difference in row_summary["open_differences"]:
            case = cases.get(difference_ref(code, difference["date"]))
            difference["case_id"] = case.pk if case else None
            difference["case_status"] = case.get_status_display() if case else "ej öppnat"
        document, _ = services.document_create(
            case=row.case,
            kind=Document.Kind.REPORT,
            template=REPORT_TEMPLATE,
            context={
                "summary": row_summary,
                "cash_point_name": name,
                "month": month,
                "complete": month_complete(row, month),
                "import_row": row,
                "today": timezone.localdate(),
                "process": PROCESS,
            },
            title=title,
            actor_label="robot:kassaavstamning/month-report",
        )
        services.robot_step_record(
            case_id=row.case_id,
            step="month-report",
            inputs={"cash_point": code, "month": month},
            outputs={
                "days": row_summary["days"],
                "open_differences": len(row_summary["open_differences"]),
                "document": document.pk,
            },
            flow_run_id=flow_run_id,
        )
        documents.append(document)
    return documents


# -- the daily run ------------------------------------------------------------------------
def drop_folder() -> Path | None:
    """The watched folder: settings/env KASSA_DROP_FOLDER; the shipped demo month by default.

    An empty string switches the folder off.
    """
    value = getattr(settings, "KASSA_DROP_FOLDER", None)
    if value is None:
        value = os.environ.get("KASSA_DROP_FOLDER", str(DEFAULT_FOLDER))
    return Path(value) if value else None


def _previous_month(today: date) -> str:
    last = today.replace(day=1) - timedelta(days=1)
    return last.strftime("%Y-%m")


def daily_run(*, flow_run_id: str, today: date | None = None) -> dict:
    """What the schedule does each banking day, without a case of its own.

    1. The drop folder's three files are imported once (their case's own run reconciles).
    2. The newest import still unreconciled from an earlier day (its run never ran,
       e.g. Prefect was down) is reconciled here.
    3. Once an import covers the previous month up to its money windows, that month's
       summary per cash point is written (once).
    """
    today = today or timezone.localdate()
    summary: dict = {"imported": None, "reconciled": None, "reports": []}
    folder = drop_folder()
    if folder is not None and folder.is_dir():
        try:
            row, created = import_store(
                files=folder_files(folder),
                source=KassaImport.Source.FOLDER,
                received_by=robot_account(),
            )
        except ImportRefused as exc:
            # Field names only: the messages quote the files and stay out of Prefect.
            summary["folder_refused"] = sorted(exc.errors)
            logger.warning("Drop folder %s refused: %s", folder, exc)
        else:
            summary["imported"] = row.case_id if created else None
    # "Its run never ran": still received (case_flow_started moves it on) since an earlier day.
    stale = (
        KassaImport.objects.filter(
            reconciled_at__isnull=True,
            case__status=Case.Status.RECEIVED,
            received_at__date__lt=today,
        )
        .exclude(case_id=summary["imported"])
        .order_by("-received_at", "-pk")
        .first()
    )
    if stale is not None:
        import_reconcile(case_id=stale.case_id, flow_run_id=flow_run_id)
        summary["reconciled"] = stale.case_id
    month = _previous_month(today)
    row = month_import(month)
    if row is not None and month_complete(row, month):
        summary["reports"] = [
            d.pk for d in month_reports_write(month=month, flow_run_id=flow_run_id)
        ]
    return summary
