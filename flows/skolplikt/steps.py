"""Bevakning av skolplikten: the steps the flow's tasks (and the run endpoint) call.

Each function takes ids or a month, reads and writes Django, and returns ids, counts or
hashes, so nothing personal passes through Prefect.

* ``scan_and_open``: the monthly scan (``flows.skolplikt.scan.scan``, the same function the
  ``skolplikt_scan`` command prints) over the configured sources, one case per flagged child.
* ``case_started`` / ``material_prepare``: a case's investigation material for a person.
* ``letters_write``: after the verified decision, one letter per guardian; the case closes.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from approvals import services
from approvals.models import Case, Decision, Document
from flows.skolplikt.connectors.population import FilePopulationRegister
from flows.skolplikt.connectors.ss12000 import FileSs12000Source, HttpSs12000Source
from flows.skolplikt.demo import ROBOT_USERNAME
from flows.skolplikt.process import INJUNCTION, PROCESS
from flows.skolplikt.report import HINT_LABELS_SV, REASON_LABELS_SV, report_from_entry
from flows.skolplikt.rulesets import month_parse
from flows.skolplikt.scan import (
    MISSING_SCHOOL_SILENT,
    REASON_ABSENCE,
    REASON_NOT_ENROLLED,
    REASON_PLACEMENT_GAP,
    scan,
)
from municipality.models import Staff

DEFAULT_SOURCE_DIR = Path(__file__).resolve().parents[2] / "data" / "skolplikt"
PAYLOAD_SCHEMA = "skolplikt-finding/1"
ROBOT_LABEL = "robot:skolplikt"

SKOLPLIKT_NO_ROBOT_ACCOUNT = "SKOLPLIKT_NO_ROBOT_ACCOUNT"

INJUNCTION_TEMPLATE = "skolplikt/injunction.html"
CLOSING_TEMPLATE = "skolplikt/closing.html"


class ScanRunError(Exception):
    """The scan cannot open cases (no robot account); ``code`` names the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------- the scan as a robot


def _setting(name: str) -> str:
    """A Django setting, else the environment variable of that name (the runner's), else ""."""
    return str(getattr(settings, name, "") or os.environ.get(name, ""))


def sources():
    """The population register and SS 12000 source, from the settings at call time.

    ``SKOLPLIKT_SOURCE_DIR`` (default: the shipped data/skolplikt) holds folkbokforing.json
    and, unless ``SKOLPLIKT_SS12000_URL`` names an SS 12000 API (token in
    ``SKOLPLIKT_SS12000_TOKEN``), the ss12000/ JSON files. Each is a Django setting or,
    since the core's settings do not name them, an environment variable.
    """
    directory = Path(_setting("SKOLPLIKT_SOURCE_DIR") or DEFAULT_SOURCE_DIR)
    url = _setting("SKOLPLIKT_SS12000_URL")
    ss12000 = (
        HttpSs12000Source(base_url=url, token=_setting("SKOLPLIKT_SS12000_TOKEN") or None)
        if url
        else FileSs12000Source(directory / "ss12000")
    )
    return FilePopulationRegister(directory), ss12000


def month_before(today: date) -> str:
    """The month the scheduled run scans: the one before `today` (its reports are in)."""
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year:04d}-{month:02d}"


def external_ref_for(*, month: str, personnummer: str) -> str:
    """One case per child and month; the reference names no one (a hash of the number)."""
    digest = hashlib.sha256(personnummer.encode()).hexdigest()[:16]
    return f"skolplikt-{month}-{digest}"


def robot_account():
    """The robot account that opens the cases (Staff.Kind.ROBOT of the process's unit)."""
    accounts = get_user_model().objects.filter(
        staff__kind=Staff.Kind.ROBOT, staff__unit__code=PROCESS.unit_code, is_active=True
    )
    user = accounts.filter(username=ROBOT_USERNAME).first() or accounts.order_by("pk").first()
    if user is None:
        raise ScanRunError(
            SKOLPLIKT_NO_ROBOT_ACCOUNT,
            f"No active robot account of unit {PROCESS.unit_code!r} to open the cases.",
        )
    return user


def finding_payload(*, result, child) -> dict[str, Any]:
    """What a case keeps of the scan: the month, the rules applied and the child's finding."""
    entry = child_entry(child)
    return {
        "schema": PAYLOAD_SCHEMA,
        "process": PROCESS.slug,
        "month": result.month,
        "ruleset_version": result.ruleset_version,
        "municipality_code": result.municipality_code,
        "thresholds": result.thresholds,
        "finding": entry,
    }


def child_entry(child) -> dict[str, Any]:
    from dataclasses import asdict

    from flows.skolplikt.scan import _jsonable

    return _jsonable(asdict(child))


def scan_and_open(*, month: str, flow_run_id: str = "", requested_by=None) -> dict[str, Any]:
    """Scan `month` over the configured sources and open one case per flagged child.

    Idempotent: a child already opened for the month keeps its case (case_open answers
    with it). A finding that differs from the one its case was opened with (the sources
    were corrected after the first run) is not overwritten: it is counted as a conflict
    for the process owner to look at. Returns ids and counts only.

    Raises RulesetError (bad month), Ss12000Error / PopulationRegisterError (sources).
    """
    register, ss12000 = sources()
    opened_by = robot_account()
    result = scan(month=month, register=register, ss12000=ss12000)
    opened, existing, conflicts = [], [], []
    for child in result.flagged:
        payload = finding_payload(result=result, child=child)
        ref = external_ref_for(month=month, personnummer=child.personnummer)
        try:
            case, created = services.case_open(
                spec=PROCESS,
                external_ref=ref,
                raw_body=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                payload=payload,
                opened_by=opened_by,
                schema_version=PAYLOAD_SCHEMA,
            )
        except services.ServiceError as exc:
            if exc.code != services.APPLICATION_DUPLICATE_DIFFERS:
                raise
            conflicts.append(ref)
            continue
        (opened if created else existing).append(case.pk)
        if created:
            services.robot_step_record(
                case_id=case.pk,
                step="scan",
                inputs={
                    "month": month,
                    "ruleset": result.ruleset_version,
                    "source": type(ss12000).__name__,
                    "requested_by": requested_by.get_username() if requested_by else "schedule",
                },
                outputs={"reasons": list(child.reasons), "hints": list(child.hints)},
                flow_run_id=flow_run_id,
            )
    return {
        "month": result.month,
        "ruleset_version": result.ruleset_version,
        "checked": result.checked,
        "children_of_compulsory_age": result.children_of_compulsory_age,
        "flagged": len(result.flagged),
        "opened": opened,
        "existing": existing,
        "conflicts": conflicts,
        "schools_without_report": [
            s.school_unit_code or s.id for s in result.schools_without_report
        ],
    }


# ---------------------------------------------------------------- one case


def case_started(*, case_id: int, flow_run_id: str) -> None:
    services.case_flow_started(case_id=case_id, flow_run_id=flow_run_id)
    services.robot_step_record(
        case_id=case_id,
        step="mark-started",
        inputs={"case": case_id},
        outputs={"status": "processing"},
        flow_run_id=flow_run_id,
    )


def earlier_cases(case: Case) -> list[dict[str, Any]]:
    """The municipality's other skolplikt cases about the same child, oldest first."""
    child = case.parties.filter(role="child").values_list("personnummer", flat=True).first()
    if not child:
        return []
    rows = []
    others = (
        Case.objects.filter(
            process=PROCESS.slug, parties__role="child", parties__personnummer=child
        )
        .exclude(pk=case.pk)
        .order_by("received_at", "pk")
        .distinct()
    )
    for other in others:
        decision = Decision.objects.filter(request__case=other).order_by("-signed_at").first()
        rows.append(
            {
                "reference": other.external_ref,
                "case_id": other.pk,
                "month": other.data.get("month", ""),
                "reasons": [REASON_LABELS_SV.get(r, r) for r in other.data.get("reasons", [])],
                "outcome": decision.outcome if decision else "",
                "status": other.status,
            }
        )
    return rows


def report_for(case: Case) -> dict[str, Any]:
    """The drafted absence / not-enrolled report of a case, from its stored finding."""
    payload = case.payload
    return report_from_entry(
        payload["finding"],
        month=payload["month"],
        ruleset_version=payload["ruleset_version"],
        thresholds=payload["thresholds"],
        earlier_cases=earlier_cases(case),
    )


def _flags(report: dict[str, Any]) -> list[dict[str, str]]:
    flags = []
    if report["child"]["protected"]:
        flags.append(
            {
                "code": "protected_identity",
                "severity": "warning",
                "origin": "population_register",
                "text": "Skyddade personuppgifter: inga uppgifter om barnet eller "
                "vårdnadshavarna får lämnas till skolan eller tas upp i listor.",
            }
        )
    for missing in report["missing_reports"]:
        why = (
            "skolan rapporterade ingen närvaro alls"
            if missing["why"] == MISSING_SCHOOL_SILENT
            else "skolan rapporterade andra elever men inte barnet"
        )
        flags.append(
            {
                "code": "report_missing",
                "severity": "warning",
                "origin": "ss12000",
                "text": f"Närvarorapport saknas {missing['start']}–{missing['end']} ({why}); "
                "inte läst som ingen frånvaro.",
            }
        )
    for hint in report["hint_labels"]:
        flags.append({"code": "hint", "severity": "info", "origin": "rules", "text": hint})
    if report["earlier_cases"]:
        flags.append(
            {
                "code": "earlier_cases",
                "severity": "info",
                "origin": "cases",
                "text": f"{len(report['earlier_cases'])} tidigare ärenden om barnet.",
            }
        )
    return flags


def _summary(report: dict[str, Any]) -> str:
    """The inbox line: the child's name, the reasons and the figures behind them.

    For a protected child no name (the inbox template marks the row instead); never an
    address, a personnummer or a school for any child.
    """
    parts = [] if report["child"]["protected"] else [report["child"]["name"]]
    parts += report["reason_labels"]
    figures = report["figures"]
    if figures and REASON_ABSENCE in report["reasons"]:
        parts.append(
            f"ogiltig {figures['unexcused_percent'].replace('.', ',')} %, "
            f"total {figures['total_absence_percent'].replace('.', ',')} %"
        )
    if REASON_PLACEMENT_GAP in report["reasons"]:
        parts.append(f"{len(report['gap_school_days'])} skoldagar utan placering")
    return " · ".join(parts)


def material_prepare(*, case_id: int, flow_run_id: str, version: int = 1):
    """Compile the investigation material (absence report or not-enrolled investigation)."""
    case = Case.objects.select_related("unit").get(pk=case_id)
    report = report_for(case)
    flags = _flags(report)
    kind = "not_enrolled" if REASON_NOT_ENROLLED in report["reasons"] else "absence"
    proposal = {
        "kind": kind,
        "month": report["month"],
        "reasons": report["reasons"],
        "ruleset_version": report["ruleset_version"],
        "thresholds": report["thresholds"],
        "figures": report["figures"],
        "gap_school_days": len(report["gap_school_days"]),
        "missing_reports": len(report["missing_reports"]),
        "earlier_cases": len(report["earlier_cases"]),
        "protected": report["child"]["protected"],
    }
    opened = services.material_compile(
        case_id=case_id,
        version=version,
        context={
            "report": report,
            "payload": case.payload,
            "child": report["child"],
            "guardians": report["guardians"],
            "flags": flags,
            "kind": kind,
            "hint_labels": HINT_LABELS_SV,
        },
        proposal=proposal,
        flags=flags,
        ruleset_version=report["ruleset_version"],
        summary=_summary(report),
        compiled_by=f"{ROBOT_LABEL}/compile-material",
    )
    services.robot_step_record(
        case_id=case_id,
        step="compile-material",
        inputs={"month": report["month"], "ruleset": report["ruleset_version"], "kind": kind},
        outputs={
            "flags": len(flags),
            "weeks": len(report["pattern_by_week"]),
            "earlier_cases": len(report["earlier_cases"]),
            "material_sha256": opened.material_sha256,
            "version": opened.version,
        },
        flow_run_id=flow_run_id,
    )
    return opened


def panel_context(*, case, material) -> dict[str, Any]:
    """What the case page's panel shows: figures, weekly pattern, reasons, rule version."""
    if case.process != PROCESS.slug or not case.payload.get("finding"):
        return {}
    return {"report": report_for(case), "payload": case.payload}


# ---------------------------------------------------------------- letters


def _date(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def letter_title(*, outcome: str, number: int, of: int) -> str:
    what = "Föreläggande" if outcome == INJUNCTION else "Beslut att avsluta utredning"
    return f"{what}, vårdnadshavare {number} av {of}"


def addressees(finding: dict[str, Any]) -> list[dict[str, Any]]:
    """Each guardian gets a copy; a child with no guardian on record gets one to the home."""
    if finding["guardians"]:
        return list(finding["guardians"])
    return [{"personnummer": "", "name": "Barnets vårdnadshavare", "address": finding["address"]}]


def letters_write(*, decision_id: int, flow_run_id: str) -> list[str]:
    """One letter per guardian for a verified decision; the first closes the case.

    The injunction (föreläggande, 7 kap. 23 §) carries the motivation and the appeal
    instructions to förvaltningsrätten; a closing (closed / guardian_talk) does not go
    against the guardians and carries none. Idempotent: a re-run writes no second copy.
    Returns the letters' hashes.
    """
    decision = Decision.objects.select_related("request__case__unit", "delegation").get(
        pk=decision_id
    )
    case = decision.request.case
    finding = case.payload["finding"]
    report = report_for(case)
    decided = decision.decided or {}
    template = INJUNCTION_TEMPLATE if decision.outcome == INJUNCTION else CLOSING_TEMPLATE
    people = addressees(finding)
    base = {
        "report": report,
        "child": report["child"],
        "guardians": finding["guardians"],
        "injunction": {
            "obligations": decided.get("obligations", []),
            "from_date": _date(decided.get("from_date")),
            "vite": decided.get("vite"),
            "immediate": decided.get("immediate", True),
        },
        "closing": {
            "reason": decided.get("reason", ""),
            "talk_date": _date(decided.get("talk_date")),
        },
        # Letters after the first are not tied to the decision in the core (one document
        # per decision and kind); the templates read the decision from here then.
        "letter_decision": decision,
    }
    first = services.decision_execute(
        decision_id=decision_id,
        document_context={**base, "addressee": people[0]},
        document_template=template,
        title=letter_title(outcome=decision.outcome, number=1, of=len(people)),
    )
    documents = [first]
    for number, person in enumerate(people[1:], start=2):
        title = letter_title(outcome=decision.outcome, number=number, of=len(people))
        existing = Document.objects.filter(
            case=case, kind=Document.Kind.DECISION_LETTER, title=title
        ).first()
        if existing is None:
            existing, _ = services.document_create(
                case=case,
                kind=Document.Kind.DECISION_LETTER,
                template=template,
                context={
                    **base,
                    "addressee": person,
                    "today": timezone.localdate(),
                    "process": PROCESS,
                },
                title=title,
                actor_label=f"{ROBOT_LABEL}/write-letters",
            )
        documents.append(existing)
    services.robot_step_record(
        case_id=case.pk,
        step="write-letters",
        inputs={"decision": decision_id, "outcome": decision.outcome, "template": template},
        outputs={"documents": [d.pk for d in documents], "sha256": [d.sha256 for d in documents]},
        flow_run_id=flow_run_id,
    )
    return [d.sha256 for d in documents]


def default_month() -> str:
    return month_before(timezone.localdate())


def month_valid(month: str) -> str:
    """The month in canonical form; RulesetError when it is not YYYY-MM."""
    year, number = month_parse(month)
    return f"{year:04d}-{number:02d}"
