"""A roster proposal by Google OR-Tools CP-SAT: the law as hard constraints, the rest weighed.

The model follows OR-Tools' ``examples/python/shift_scheduling_sat.py``: one Boolean per
person, day and shift type, but only where the person may work it (a role or competence some
need of that shift asks for, not on leave, nights only for those who work nights). Hard:
overlap and daily rest (each pair of shifts is tested with the check's own ``daily_rest``
function), a free stretch of ``weekly_rest_hours`` in every 7-day period, at most 40 h a week
on average per reference period, the night-work average for those who work nights.

Soft, in this order of weight: every missing person on a need (the fallback when the unit is
understaffed: as few uncovered needs as possible, each reported), hours outside the contract's
tolerance, wishes, a fair share of weekends and nights, closeness to the contract, shifts
that cover no need. The search starts from a greedy legal roster (``_greedy``), completed
into a full hint by a short solve, so that on a busy two-core machine the time goes into
improving a covered roster rather than finding one. Every proposal is then run through ``check`` so that what the manager
sees is the same verdict an edit would get, and each rule that could not be met is explained.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date, timedelta

from ortools.sat.python import cp_model

from .clock import HOUR, day_ts, fmt, local_date
from .roster import Need, Roster, RosterError, roster_build, shift_type_interval
from .rules import (
    AVERAGE_WEEK,
    check,
    contract_target_hours,
    daily_rest_windows,
    longest_free,
    merge,
    night_seconds,
    roster_summary,
    week_windows,
    worked,
)
from .schemas import RosterIn

PROPOSE_HAS_SHIFTS = "PROPOSE_HAS_SHIFTS"
PROPOSE_NO_SOLUTION = "PROPOSE_NO_SOLUTION"

WEIGHT_UNCOVERED = 100_000  # per missing person on a need
WEIGHT_CONTRACT = 50  # per minute outside the contract's tolerance
WEIGHT_WISH = 600  # per unit of a wish's weight
WEIGHT_FAIRNESS = 300  # per shift away from a fair share
WEIGHT_SURPLUS = 600  # per shift that covers no need: more than closeness can gain by it
WEIGHT_CLOSENESS = 1  # per minute away from the contracted hours
MAX_PAIR_GAP = 2 * 24 * HOUR  # shifts further apart than this cannot breach daily rest


def _daily_rest_ok(intervals: list[tuple[int, int]], rs) -> bool:
    work = merge(intervals)
    if sum(e - s for s, e in work) != sum(e - s for s, e in intervals):
        return False  # overlap
    ends = [e for _, e in work]
    need = rs.daily_rest_hours * HOUR
    return all(longest_free(work, ends, a, b) >= need for a, b in daily_rest_windows(work, rs))


class _Slot:
    __slots__ = ("day", "type", "start", "end", "needs", "night", "weekend")

    def __init__(self, day: date, type_: str, start: int, end: int, rs) -> None:
        self.day, self.type, self.start, self.end = day, type_, start, end
        self.needs: list[Need] = []
        self.night = night_seconds(start, end, rs) >= rs.night_worker_min_hours * HOUR
        self.weekend = day.weekday() >= 5

    @property
    def minutes(self) -> int:
        return (self.end - self.start) // 60


def _slots(roster: Roster) -> list[_Slot]:
    by_key: dict[tuple, _Slot] = {}
    for need in roster.needs:
        if not (roster.period_start <= need.date <= roster.period_end):
            continue
        key = (need.date, need.shift)
        if key not in by_key:
            start, end = shift_type_interval(need.date, *roster.shift_types[need.shift])
            by_key[key] = _Slot(need.date, need.shift, start, end, roster.ruleset)
        by_key[key].needs.append(need)
    return sorted(by_key.values(), key=lambda s: (s.start, s.end, s.type))


def _eligible(roster: Roster, person, slot: _Slot) -> bool:
    if slot.night and not person.works_nights:
        return False
    if person.night_only and not slot.night:
        return False
    for item in roster.leave.get(person.id, ()):
        if slot.start < item.end and item.start < slot.end:
            return False
    return any(n.admits(person) for n in slot.needs)


def _clipped_minutes(slot: _Slot, a: int, b: int) -> int:
    return max(0, min(slot.end, b) - max(slot.start, a)) // 60


def propose(data, *, time_limit: float = 45.0, num_workers: int = 2, seed: int = 0) -> dict:
    """Return a proposed roster for ``data`` (staff, needs, leave, wishes; no shifts).

    The result has the input's ``shifts`` shape plus ``breaches`` and ``uncovered`` from
    ``check``, ``unmet_wishes``, ``explanations`` (one per rule or need that could not be met)
    and ``solver`` (status, objective, bound, wall time).
    """
    source = data if isinstance(data, RosterIn) else None
    if source is None:
        roster = roster_build(data)
        source = roster.source
    else:
        roster = roster_build(source)
    if source.shifts:
        raise RosterError(PROPOSE_HAS_SHIFTS, "A proposal starts from no shifts; remove them.")
    rs = roster.ruleset
    started = time.monotonic()
    slots = _slots(roster)
    model = cp_model.CpModel()
    staff = list(roster.staff.values())

    x: dict[tuple[str, int], cp_model.IntVar] = {}
    per_staff: dict[str, list[int]] = defaultdict(list)
    for si, slot in enumerate(slots):
        for person in staff:
            if _eligible(roster, person, slot):
                x[person.id, si] = model.new_bool_var(f"x_{person.id}_{si}")
                per_staff[person.id].append(si)

    # Coverage: each shift worked covers at most one need of its slot.
    objective = []
    missing: dict[str, cp_model.IntVar] = {}
    y_of_need: dict[str, list] = defaultdict(list)
    y_index: dict[tuple[str, int], list[tuple[str, cp_model.IntVar]]] = defaultdict(list)
    for si, slot in enumerate(slots):
        for person in staff:
            if (person.id, si) not in x:
                continue
            ys = []
            for need in slot.needs:
                if need.admits(person):
                    y = model.new_bool_var(f"y_{person.id}_{need.id}")
                    ys.append(y)
                    y_of_need[need.id].append(y)
                    y_index[person.id, si].append((need.id, y))
            model.add(sum(ys) <= x[person.id, si])
            surplus = model.new_bool_var(f"surplus_{person.id}_{si}")
            model.add(x[person.id, si] - sum(ys) <= surplus)
            objective.append(WEIGHT_SURPLUS * surplus)
        for need in slot.needs:
            u = model.new_int_var(0, need.count, f"u_{need.id}")
            model.add(sum(y_of_need[need.id]) + u == need.count)
            missing[need.id] = u
            objective.append(WEIGHT_UNCOVERED * u)

    # Daily rest and overlap: forbid every pair (and single) the check would flag.
    pair_cache: dict[tuple, bool] = {}
    for person in staff:
        mine = per_staff[person.id]
        for k, si in enumerate(mine):
            a = slots[si]
            key1 = (a.start, a.end)
            if key1 not in pair_cache:
                pair_cache[key1] = _daily_rest_ok([key1], rs)
            if not pair_cache[key1]:
                model.add(x[person.id, si] == 0)
                continue
            for sj in mine[k + 1 :]:
                b = slots[sj]
                if b.start - a.end > MAX_PAIR_GAP:
                    break
                key = (a.start, a.end, b.start, b.end)
                if key not in pair_cache:
                    pair_cache[key] = _daily_rest_ok([(a.start, a.end), (b.start, b.end)], rs)
                if not pair_cache[key]:
                    model.add_bool_or([x[person.id, si].Not(), x[person.id, sj].Not()])

    # Weekly rest: in every 7-day period, one free stretch of weekly_rest_hours starting at
    # the period's start or at the end of a shift.
    rest = rs.weekly_rest_hours * HOUR
    week_starts = []
    day = roster.period_start
    while day <= roster.period_end:
        week_starts.append((day_ts(day), day_ts(day + timedelta(days=7))))
        day += timedelta(days=7)
    for person in staff:
        mine = per_staff[person.id]
        for wa, wb in week_starts:
            inside = [si for si in mine if slots[si].start < wb and wa < slots[si].end]
            if not inside:
                continue
            starts = {wa} | {slots[si].end for si in inside if wa < slots[si].end <= wb - rest}
            choices = []
            for r0 in sorted(starts):
                blocked = [
                    x[person.id, si]
                    for si in inside
                    if slots[si].start < r0 + rest and r0 < slots[si].end
                ]
                r = model.new_bool_var("")
                for var in blocked:
                    model.add_implication(r, var.Not())
                choices.append(r)
            model.add_bool_or(choices)

    # ATL 5 §, 13 a §, and the contract.
    for person in staff:
        mine = per_staff[person.id]
        for a, b, days in week_windows(roster, rs.average_week_reference_weeks):
            terms = [(_clipped_minutes(slots[si], a, b), x[person.id, si]) for si in mine]
            model.add(
                sum(m * v for m, v in terms if m) <= int(rs.max_average_week_hours * 60 * days / 7)
            )
        if person.works_nights:
            for a, b, days in week_windows(roster, rs.night_reference_weeks):
                span = b - a
                if rs.night_average_excludes_weekly_rest:
                    span -= rs.weekly_rest_hours * HOUR * days / 7
                limit = int(rs.night_max_hours * 60 * span / (24 * HOUR))
                terms = [(_clipped_minutes(slots[si], a, b), x[person.id, si]) for si in mine]
                model.add(sum(m * v for m, v in terms if m) <= limit)
        total = sum(slots[si].minutes * x[person.id, si] for si in mine)
        target = round(contract_target_hours(roster, person) * 60)
        tolerance = round(rs.contract_tolerance_hours_per_week * 60 * roster.days / 7)
        bound = 60 * 24 * roster.days
        over = model.new_int_var(0, bound, f"over_{person.id}")
        under = model.new_int_var(0, bound, f"under_{person.id}")
        away = model.new_int_var(0, bound, f"away_{person.id}")
        model.add(over >= total - target - tolerance)
        model.add(under >= target - tolerance - total)
        model.add(away >= total - target)
        model.add(away >= target - total)
        objective += [WEIGHT_CONTRACT * over, WEIGHT_CONTRACT * under, WEIGHT_CLOSENESS * away]

    # Wishes.
    wish_terms = []
    for wi, wish in enumerate(source.wishes):
        mine = [
            si
            for si in per_staff[wish.staff]
            if slots[si].day == wish.date and (wish.shift is None or slots[si].type == wish.shift)
        ]
        weight = WEIGHT_WISH * wish.weight
        if wish.kind == "off":
            for si in mine:
                objective.append(weight * x[wish.staff, si])
            wish_terms.append((wi, mine, "off"))
        else:
            met = model.new_bool_var(f"wish_{wi}")
            if mine:
                model.add(met <= sum(x[wish.staff, si] for si in mine))
            else:
                model.add(met == 0)
            objective.append(weight * (1 - met))
            wish_terms.append((wi, mine, "work"))

    # Fairness: weekends in proportion to the employment rate; nights evenly among day staff
    # who also work nights.
    day_staff = [p for p in staff if not p.night_only]
    weekend_units = sum(n.count for s in slots if s.weekend and not s.night for n in s.needs)
    rate_sum = sum(p.employment_rate for p in day_staff) or 1
    for person in day_staff:
        count = sum(
            x[person.id, si]
            for si in per_staff[person.id]
            if slots[si].weekend and not slots[si].night
        )
        target10 = round(10 * weekend_units * person.employment_rate / rate_sum)
        dev = model.new_int_var(0, 10 * len(slots), f"wkdev_{person.id}")
        model.add(dev >= 10 * count - target10)
        model.add(dev >= target10 - 10 * count)
        objective.append((WEIGHT_FAIRNESS // 10) * dev)  # dev is in tenths of a shift
    night_sharers = [p for p in staff if p.nights and not p.night_only]
    if len(night_sharers) > 1:
        hi = model.new_int_var(0, len(slots), "nights_max")
        lo = model.new_int_var(0, len(slots), "nights_min")
        for person in night_sharers:
            count = sum(x[person.id, si] for si in per_staff[person.id] if slots[si].night)
            model.add(hi >= count)
            model.add(lo <= count)
        objective.append(WEIGHT_FAIRNESS * (hi - lo))

    model.minimize(sum(objective))
    # A greedy roster as the starting point: on a loaded machine the solver then improves a
    # covered roster instead of searching for one.
    greedy = _greedy(roster, slots, per_staff, pair_cache)
    _hint_from(model, x, y_index, greedy, limit=min(10.0, time_limit / 4), workers=num_workers)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(
        0.1, float(time_limit) - (time.monotonic() - started)
    )
    solver.parameters.num_workers = int(num_workers)
    solver.parameters.random_seed = int(seed)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RosterError(
            PROPOSE_NO_SOLUTION,
            f"The solver found no roster within {time_limit} s ({solver.status_name(status)}).",
        )

    shifts = []
    for (sid, si), var in x.items():
        if not solver.boolean_value(var):
            continue
        slot = slots[si]
        need_id = next((nid for nid, y in y_index[sid, si] if solver.boolean_value(y)), None)
        shifts.append(
            {
                "staff": sid,
                "start": fmt(slot.start),
                "end": fmt(slot.end),
                "need": need_id,
                "shift": slot.type,
            }
        )
    shifts.sort(key=lambda s: (s["start"], s["staff"]))
    proposal = source.model_dump(mode="json", exclude={"shifts"}, exclude_none=True)
    proposal["period"] = {
        "start": roster.period_start.isoformat(),
        "end": roster.period_end.isoformat(),
    }
    proposal["shifts"] = shifts
    verdict = check(proposal)
    unmet = []
    for wi, mine, kind in wish_terms:
        wish = source.wishes[wi]
        worked = any(solver.boolean_value(x[wish.staff, si]) for si in mine)
        if (kind == "off" and worked) or (kind == "work" and not worked):
            unmet.append(wish.model_dump(mode="json"))
    wall = time.monotonic() - started
    proposal.update(verdict)
    proposal["unmet_wishes"] = unmet
    # Per person: hours against the contract, weekends and nights (the grid's fairness columns).
    proposal["summary"] = roster_summary(roster_of(proposal))
    proposal["explanations"] = _explain(roster, slots, verdict, unmet, proposal["summary"])
    proposal["solver"] = {
        "status": solver.status_name(status),
        "objective": solver.objective_value,
        "best_bound": solver.best_objective_bound,
        "wall_time_s": round(wall, 2),
        "solve_time_s": round(solver.wall_time, 2),
        "num_workers": int(num_workers),
        "time_limit_s": float(time_limit),
    }
    return proposal


def _hint_from(model, x, y_index, greedy: dict, *, limit: float, workers: int) -> None:
    """Give the model a complete hint: the greedy roster, with every other variable (rest
    choices, deviations, slack) completed by a short solve that assumes the greedy values."""
    literals = []
    for key, var in x.items():
        literals.append(var if key in greedy else var.Not())
        for nid, y in y_index[key]:
            literals.append(y if greedy.get(key) == nid else y.Not())
    model.add_assumptions(literals)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = int(workers)
    solver.parameters.stop_after_first_solution = True
    status = solver.solve(model)
    model.clear_assumptions()
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return  # no hint: the solver searches from scratch
    for i in range(len(model.proto.variables)):
        var = model.get_int_var_from_proto_index(i)
        model.add_hint(var, solver.value(var))


def _greedy(
    roster: Roster, slots: list[_Slot], per_staff: dict, pair_cache: dict
) -> dict[tuple[str, int], str]:
    """Return a legal, greedy assignment ``{(staff, slot): need id}``: slot by slot, the most
    demanding need first, each place to the qualified person furthest below their contract
    who breaks no hard rule with what they already have."""
    rs = roster.ruleset
    assigned: dict[str, list[int]] = defaultdict(list)
    minutes: dict[str, int] = defaultdict(int)
    eligible = {sid: set(sis) for sid, sis in per_staff.items()}
    target = {
        p.id: contract_target_hours(roster, p) * 60 + rs.contract_tolerance_hours_per_week * 60
        for p in roster.staff.values()
    }
    avg_windows = week_windows(roster, rs.average_week_reference_weeks)
    weeks = [(a, day_ts(local_date(a) + timedelta(days=7))) for a, _, _ in week_windows(roster)]
    rest = rs.weekly_rest_hours * HOUR

    def legal(sid: str, si: int) -> bool:
        slot = slots[si]
        for sj in assigned[sid]:
            other = slots[sj]
            first, second = (other, slot) if other.start <= slot.start else (slot, other)
            if second.start - first.end > MAX_PAIR_GAP:
                continue
            key = (first.start, first.end, second.start, second.end)
            if key not in pair_cache:
                pair_cache[key] = _daily_rest_ok(
                    [(first.start, first.end), (second.start, second.end)], rs
                )
            if not pair_cache[key]:
                return False
        work = merge([(slots[sj].start, slots[sj].end) for sj in assigned[sid]] + [
            (slot.start, slot.end)
        ])  # fmt: skip
        ends = [e for _, e in work]
        for a, b in weeks:
            if a < slot.end and slot.start < b and longest_free(work, ends, a, b) < rest:
                return False
        for a, b, days in avg_windows:
            if worked(work, ends, a, b) > rs.max_average_week_hours * HOUR * days / 7:
                return False
        return True

    result: dict[tuple[str, int], str] = {}
    for si, slot in enumerate(slots):
        busy: set[str] = set()
        for need in sorted(slot.needs, key=lambda n: (-len(n.competences), -len(n.roles) or 9)):
            for _ in range(need.count):
                candidates = [
                    p
                    for p in roster.staff.values()
                    if p.id not in busy
                    and si in eligible.get(p.id, ())
                    and need.admits(p)
                    and minutes[p.id] + slot.minutes <= target[p.id]
                    and legal(p.id, si)
                ]
                if not candidates:
                    break
                best = min(candidates, key=lambda p: (minutes[p.id] / max(target[p.id], 1), p.id))
                busy.add(best.id)
                assigned[best.id].append(si)
                minutes[best.id] += slot.minutes
                result[best.id, si] = need.id
    return result


def greedy_shifts(data) -> list[dict]:
    """Return the greedy starting roster's shifts alone (for tests and as a quick preview)."""
    roster = roster_build(data)
    slots = _slots(roster)
    per_staff: dict[str, list[int]] = defaultdict(list)
    for si, slot in enumerate(slots):
        for person in roster.staff.values():
            if _eligible(roster, person, slot):
                per_staff[person.id].append(si)
    greedy = _greedy(roster, slots, per_staff, {})
    shifts = [
        {"staff": sid, "start": fmt(slots[si].start), "end": fmt(slots[si].end), "need": nid,
         "shift": slots[si].type}
        for (sid, si), nid in greedy.items()
    ]  # fmt: skip
    return sorted(shifts, key=lambda s: (s["start"], s["staff"]))


def roster_of(proposal: dict) -> dict:
    """Return the roster part of a proposal (what ``check`` reads), without the verdict."""
    return {k: v for k, v in proposal.items() if k in RosterIn.model_fields}


def _explain(
    roster: Roster, slots: list[_Slot], verdict: dict, unmet: list, summary: dict
) -> list[dict]:
    """One sentence per need or rule the proposal could not meet, for the manager."""
    out = []
    needs = {n.id: n for n in roster.needs}
    slot_of = {n.id: s for s in slots for n in s.needs}
    for item in verdict["uncovered"]:
        need = needs[item["need"]]
        slot = slot_of.get(need.id)
        eligible = [
            p.id
            for p in roster.staff.values()
            if slot is not None and need.admits(p) and _eligible(roster, p, slot)
        ]
        if len(eligible) < need.count:
            reason = (
                f"only {len(eligible)} of the staff have the role and competence asked for, "
                "are not on leave and may work this shift"
            )
        else:
            reason = (
                f"{len(eligible)} staff qualify, but the others are held by daily or weekly rest, "
                "the 40-hour average, their contracted hours or other needs"
            )
        out.append(
            {
                "rule": "coverage",
                "need": need.id,
                "detail": f"{item['missing']} of {need.count} missing on {need.date} {need.shift}: "
                f"{reason}.",
            }
        )
    for breach in verdict["breaches"]:
        if breach["rule"] == AVERAGE_WEEK and "contracted" in breach["detail"]:
            person = roster.staff[breach["staff"]]
            worked = summary[person.id]["scheduled_hours"]
            if worked < summary[person.id]["contracted_hours"]:
                why = (
                    " Too few of the needs are shifts this person may work (role, competence, "
                    "leave, nights) within rest and the 40-hour average."
                )
            else:
                why = " Covering the needs took more hours than the contract."
            out.append({"rule": "contract", "staff": person.id, "detail": breach["detail"] + why})
        else:
            out.append(
                {"rule": breach["rule"], "staff": breach["staff"], "detail": breach["detail"]}
            )
    for wish in unmet:
        what = wish.get("shift") or "the day"
        out.append(
            {
                "rule": "wish",
                "staff": wish["staff"],
                "detail": f"Wish to be {wish['kind']} on {wish['date']} ({what}) not met: it "
                "conflicts with coverage, rest or hours.",
            }
        )
    return out
