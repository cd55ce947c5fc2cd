"""Ekonomiskt bistånd steps that the flow's tasks call.

Each function takes ids, reads and writes Django, and returns ids or hashes, so
nothing personal passes through Prefect.
"""

import time
from dataclasses import asdict

from django.conf import settings

from approvals import faults, selectors, services
from approvals.models import Case, Decision, Material, RegisterSnapshot
from flows.connectors import get_connector
from flows.connectors.base import (
    KNOWN_INCOME_TYPES,
    POPULATION_REGISTER,
    SOURCE_INCOME_TYPES,
    PersonNotFound,
    RegisterUnavailable,
    SourceAnswer,
)
from flows.ekonomiskt_bistand.calculation import apply_adjustments, calculate_bistand
from flows.ekonomiskt_bistand.deviations import (
    control_month_for,
    household_deviations,
    income_deviations,
    resolve_register_incomes,
)


def case_started(*, case_id: int, flow_run_id: str) -> None:
    services.case_flow_started(case_id=case_id, flow_run_id=flow_run_id)
    services.robot_step_record(
        case_id=case_id,
        step="mark-started",
        inputs={"case": case_id},
        outputs={"status": "processing"},
        flow_run_id=flow_run_id,
    )


def _ask(connector, *, source: str, personnummer: str, month: str) -> SourceAnswer:
    """One register question, retried while the register does not answer.

    After the last attempt the answer is marked as missing — never a silent zero.
    """
    attempts = settings.REGISTER_RETRY_ATTEMPTS
    delay = settings.REGISTER_RETRY_DELAY_SECONDS
    for attempt in range(attempts):
        try:
            return connector.fetch_source(source=source, personnummer=personnummer, month=month)
        except PersonNotFound:
            return SourceAnswer(source=source, month=month, records=(), personnummer=personnummer)
        except RegisterUnavailable:
            if attempt + 1 < attempts:
                time.sleep(delay)
    return SourceAnswer(
        source=source, month=month, records=(), answered=False, personnummer=personnummer
    )


def _month_before(month: str) -> str:
    year, mon = (int(x) for x in month.split("-"))
    year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return f"{year:04d}-{mon:02d}"


def _version_in_work(case_id: int) -> int:
    """The material version a run without an explicit version works on: the next one."""
    latest = Material.objects.filter(case_id=case_id).order_by("-version").first()
    return latest.version + 1 if latest else 1


def register_gather(*, case_id: int, flow_run_id: str, version: int | None = None) -> str:
    """Ask every income register about every household member; store what they said.

    Once per material version: a restarted robot reuses the answers stored for it.
    """
    version = version or _version_in_work(case_id)
    stored = services.register_snapshot_for(case_id=case_id, version=version)
    if stored is not None:
        return stored.sha256
    case = Case.objects.get(pk=case_id)
    connector = get_connector()
    control = control_month_for(case.data["period"])
    fallback = _month_before(control)
    answers, fallback_answers = [], []
    household = services.party_personnummer(case)
    for source in connector.sources():
        for pnr in household:
            answers.append(_ask(connector, source=source, personnummer=pnr, month=control))
            fallback_answers.append(
                _ask(connector, source=source, personnummer=pnr, month=fallback)
            )
    missing = sorted({a.source for a in answers if not a.answered})
    try:
        household = [
            asdict(m)
            for m in connector.population_household(personnummer=case.applicant_personnummer)
        ]
    except (RegisterUnavailable, PersonNotFound):
        household = None
        missing.append(POPULATION_REGISTER)
    snapshot = services.register_snapshot_store(
        case_id=case_id,
        data={
            "control_month": control,
            "fallback_month": fallback,
            "answers": [_answer_dict(a) for a in answers],
            "fallback_answers": [_answer_dict(a) for a in fallback_answers],
            "household": household,
        },
        missing_sources=missing,
        version=version,
    )
    services.robot_step_record(
        case_id=case_id,
        step="gather-register-data",
        inputs={
            "control_month": control,
            "fallback_month": fallback,
            "sources": connector.sources(),
            "persons": len(household),
        },
        outputs={
            "answers": sum(1 for a in answers if a.answered),
            "missing_sources": missing,
            "snapshot_sha256": snapshot.sha256,
        },
        flow_run_id=flow_run_id,
    )
    return snapshot.sha256


def _answer_dict(answer: SourceAnswer) -> dict:
    return {
        "source": answer.source,
        "month": answer.month,
        "answered": answer.answered,
        "personnummer": answer.personnummer,
        "records": [asdict(r) for r in answer.records],
    }


def _answer_from(data: dict) -> SourceAnswer:
    from flows.connectors.base import IncomeRecord

    return SourceAnswer(
        source=data["source"],
        month=data["month"],
        answered=data["answered"],
        personnummer=data["personnummer"],
        records=tuple(IncomeRecord(**r) for r in data["records"]),
    )


def register_incomes_by_person(
    *,
    answers: list[SourceAnswer],
    fallback_answers: list[SourceAnswer],
    control_month: str,
    children: list[str],
) -> tuple[dict[str, int], dict[str, int], list[str], dict[str, int]]:
    """The registers' incomes attributed per person: the household's, and each child's own work.

    A child's salary in Skatteverket's answer is the child's own work income, disregarded
    up to the 12 kap. 9 § ceiling whatever its source — never part of the household's
    salary. Returns (household known incomes, unknown types, sources missing, child
    personnummer → register work income, for children whose register answered).
    """
    child_set = set(children)
    known, unknown, missing = resolve_register_incomes(
        answers=[a for a in answers if a.personnummer not in child_set],
        control_month=control_month,
        fallback_answers=[a for a in fallback_answers if a.personnummer not in child_set],
    )
    child_work: dict[str, int] = {}
    for child in children:
        child_known, child_unknown, child_missing = resolve_register_incomes(
            answers=[a for a in answers if a.personnummer == child],
            control_month=control_month,
            fallback_answers=[a for a in fallback_answers if a.personnummer == child],
        )
        salary_answered = any(
            a.personnummer == child and a.answered and "salary_net" in SOURCE_INCOME_TYPES[a.source]
            for a in answers
        )
        work = child_known.pop("salary_net", 0)
        if salary_answered:
            child_work[child] = work
        # A child's other incomes (e.g. student aid) count for the household.
        for source in (child_known, child_unknown):
            target = known if source is child_known else unknown
            for income_type, amount in source.items():
                target[income_type] = target.get(income_type, 0) + amount
        missing += [m for m in child_missing if m not in missing]
    return known, unknown, missing, child_work


def _previous_decision_incomes(case: Case) -> dict | None:
    """Incomes counted in the last executed decision for the same applicant, if any."""
    previous = selectors.decision_previous_for_applicant(case=case)
    if previous is None:
        return None
    # Income lines are coded "income.<type>"; only whole-type lines compare with the registers.
    incomes: dict[str, int] = {}
    for line in Material.objects.get(pk=previous.material_id).proposal.get("income_lines", []):
        kind = line["code"].removeprefix("income.")
        if kind in KNOWN_INCOME_TYPES:
            incomes[kind] = incomes.get(kind, 0) + line["amount"]
    return incomes


def _declared_members(application: dict) -> list[tuple[str, str]]:
    """The household as the applicant declared it, in the population register's relations.

    A co-applicant is declared as "partner"; the register may say "spouse", which the
    comparison treats as the same household (information only).
    """
    members = [(application["applicant"]["personnummer"], "applicant")]
    if application.get("co_applicant"):
        members.append((application["co_applicant"]["personnummer"], "partner"))
    members += [(c["personnummer"], "child") for c in application.get("children", [])]
    members += [(a["personnummer"], "other_adult") for a in application.get("other_adults", [])]
    return members


def material_prepare(*, case_id: int, version: int, flow_run_id: str) -> services.OpenedRequest:
    """Compute the proposal from the application and the registers, flag deviations,
    and compile the material for a human."""
    case = Case.objects.get(pk=case_id)
    application = services.payload_current(case=case)
    snapshot = services.register_snapshot_for(case_id=case_id, version=version) or (
        RegisterSnapshot.objects.filter(case=case).order_by("-fetched_at", "-id").first()
    )
    answers = [_answer_from(a) for a in snapshot.data["answers"]]
    fallback = [_answer_from(a) for a in snapshot.data["fallback_answers"]]
    known, unknown, missing, child_work = register_incomes_by_person(
        answers=answers,
        fallback_answers=fallback,
        control_month=snapshot.data["control_month"],
        children=[c["personnummer"] for c in application.get("children", [])],
    )
    declared = {k: v for k, v in application["incomes"].items() if k != "other"}
    register_view = {k: known.get(k) for k in declared}
    calculation = calculate_bistand(
        application=application, register_incomes=known, register_child_work_incomes=child_work
    )
    flags = income_deviations(
        declared=declared,
        register=register_view,
        previous=_previous_decision_incomes(case),
        unknown_register_types=unknown,
        missing_sources=sorted(set(missing) | set(snapshot.missing_sources)),
    )
    if snapshot.data.get("household") is not None:
        declared_members = _declared_members(application)
        registered = [(m["personnummer"], m["relation"]) for m in snapshot.data["household"]]
        flags += household_deviations(
            declared_members=declared_members, registered_members=registered
        )
    calc = calculation.as_dict()
    # Flags from intake (e.g. a second application for the month) come first.
    flag_dicts = (
        list(case.data.get("intake_flags", []))
        + services.completion_flags(case=case)
        + [f.as_dict() for f in flags]
    )
    opened = services.material_compile(
        case_id=case_id,
        version=version,
        context={
            "application": application,
            "calculation": calc,
            "flags": flag_dicts,
            "register_incomes": known,
            "register_unknown": unknown,
            "missing_sources": sorted(set(missing) | set(snapshot.missing_sources)),
            "snapshot": snapshot,
        },
        proposal=calc,
        flags=flag_dicts,
        ruleset_version=calculation.ruleset_version,
        authority_amount=calculation.proposed_amount,
        summary=f"{calculation.proposed_amount} kr",
        compiled_by="robot:ekonomiskt-bistand/compile-material",
        prepared_by=services.material_preparer(case=case),
    )
    services.robot_step_record(
        case_id=case_id,
        step="compute-proposal",
        inputs={
            "ruleset": calculation.ruleset_version,
            "period": case.data["period"],
            "register_snapshot": snapshot.sha256,
        },
        outputs={
            "riksnorm": calculation.riksnorm,
            "costs": calculation.costs,
            "incomes": calculation.incomes,
            "proposed_amount": calculation.proposed_amount,
            "flags": len(flag_dicts),
            "material_sha256": opened.material_sha256,
            "version": opened.version,
        },
        flow_run_id=flow_run_id,
    )
    return opened


def decision_carry_out(*, decision_id: int, flow_run_id: str) -> str:
    """Write the letter for a verified decision, on the calculation as decided.

    With changed lines the letter shows the calculation after the changes (the same
    arithmetic the gate checked the amount with) and lists each change with its reason.
    """
    decision = Decision.objects.select_related("request__case", "material").get(pk=decision_id)
    case = decision.request.case
    calculation = decision.material.proposal
    if decision.adjustments:
        calculation = apply_adjustments(calculation=calculation, adjustments=decision.adjustments)
    letter = services.decision_execute(
        decision_id=decision_id,
        document_context={
            "application": services.payload_current(case=case),
            "calculation": calculation,
            "process": case.process,
        },
    )
    faults.kill_point(faults.COMPLETION)
    return letter.sha256 if letter else ""
