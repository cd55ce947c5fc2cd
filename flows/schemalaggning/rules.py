"""The roster rules as pure functions: ``check(roster) -> {"breaches": [...], "uncovered": [...]}``.

Called on every edit the manager makes, so it works on integer timestamps and each person's
merged working intervals; a 40-person, 6-week roster is checked in a few milliseconds
(``bench/roster.py``). Time outside the roster's shifts counts as free, also before the
period's first day and after its last: the check knows only the roster it is given.

Each breach is ``{"staff", "rule", "start", "end", "detail"}``, times local without offset,
``rule`` one of ``RULES``. Each uncovered need is ``{"need", "date", "shift", "start", "end",
"count", "covered", "missing", "roles", "competences"}``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import timedelta

from .clock import DAY, HOUR, day_ts, fmt, hours, local_date
from .roster import Need, Roster, Shift, Staff, roster_build
from .rulesets import CALENDAR_DAY, ROLLING_24H, WORKING_DAY, Ruleset

DAILY_REST = "daily_rest"  # ATL 13 §
WEEKLY_REST = "weekly_rest"  # ATL 14 §
AVERAGE_WEEK = "average_week"  # ATL 5 § and the employment contract
NIGHT_WORK = "night_work"  # ATL 13 a §
COMPETENCE = "competence"
OVERLAP = "overlap"
LEAVE = "leave"
RULES = (DAILY_REST, WEEKLY_REST, AVERAGE_WEEK, NIGHT_WORK, COMPETENCE, OVERLAP, LEAVE)


def _breach(staff: str, rule: str, start: int, end: int, detail: str) -> dict:
    return {"staff": staff, "rule": rule, "start": fmt(start), "end": fmt(end), "detail": detail}


def merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Return sorted, merged working intervals (overlaps are reported by ``overlap_breaches``)."""
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def longest_free(work: list[tuple[int, int]], ends: list[int], a: int, b: int) -> int:
    """Return the longest free stretch in ``[a, b)`` given merged ``work`` and its ``ends``."""
    best = 0
    cursor = a
    for start, end in work[bisect_right(ends, a) :]:
        if start >= b:
            break
        if start > cursor:
            best = max(best, start - cursor)
        cursor = max(cursor, end)
        if cursor >= b:
            return best
    return max(best, b - cursor)


def worked(work: list[tuple[int, int]], ends: list[int], a: int, b: int) -> int:
    """Return the seconds of ``work`` that fall in ``[a, b)``."""
    total = 0
    for start, end in work[bisect_right(ends, a) :]:
        if start >= b:
            break
        total += min(end, b) - max(start, a)
    return total


def daily_rest_windows(work: list[tuple[int, int]], rs: Ruleset) -> list[tuple[int, int]]:
    """Return the 24-hour periods of ATL 13 § for one person, as the rule set counts them.

    ROLLING_24H: 24 hours from the start of every shift. WORKING_DAY (AB): a period begins
    with the first work not inside the previous period and lasts 24 hours. CALENDAR_DAY:
    each local day from ``day_start`` to the next day's ``day_start`` (23 or 25 hours on the
    days the clocks change), where any work falls in it.
    """
    if not work:
        return []
    if rs.daily_rest_reference == ROLLING_24H:
        return [(start, start + DAY) for start, _ in work]
    if rs.daily_rest_reference == WORKING_DAY:
        windows = []
        next_from = None
        for start, _ in work:
            if next_from is None or start >= next_from:
                windows.append((start, start + DAY))
                next_from = start + DAY
        return windows
    assert rs.daily_rest_reference == CALENDAR_DAY
    windows = []
    first = local_date(work[0][0]) - timedelta(days=1)
    last = local_date(work[-1][1])
    day = first
    ends = [e for _, e in work]
    while day <= last:
        a, b = day_ts(day, rs.day_start), day_ts(day + timedelta(days=1), rs.day_start)
        if worked(work, ends, a, b):
            windows.append((a, b))
        day += timedelta(days=1)
    return windows


def daily_rest_breaches(
    staff: str, work: list[tuple[int, int]], roster: Roster, rs: Ruleset
) -> list[dict]:
    """ATL 13 §: at least ``daily_rest_hours`` consecutive hours off in every 24-hour period."""
    ends = [e for _, e in work]
    need = rs.daily_rest_hours * HOUR
    out = []
    for a, b in daily_rest_windows(work, rs):
        free = longest_free(work, ends, a, b)
        if free < need:
            out.append(
                _breach(
                    staff,
                    DAILY_REST,
                    a,
                    b,
                    f"Longest rest {hours(free)} h in the 24-hour period from {fmt(a)} "
                    f"({rs.daily_rest_reference}); at least {rs.daily_rest_hours} h required "
                    "(ATL 13 §).",
                )
            )
    return out


def week_windows(roster: Roster, weeks: int = 1) -> list[tuple[int, int, int]]:
    """Return consecutive periods of ``weeks`` weeks from the roster's first day, clipped to
    its last, as ``(start, end, days)`` in local calendar days."""
    out = []
    day = roster.period_start
    stop = roster.period_end + timedelta(days=1)
    while day < stop:
        nxt = min(day + timedelta(days=7 * weeks), stop)
        out.append((day_ts(day), day_ts(nxt), (nxt - day).days))
        day = nxt
    return out


def weekly_rest_breaches(
    staff: str, work: list[tuple[int, int]], roster: Roster, rs: Ruleset
) -> list[dict]:
    """ATL 14 §: at least ``weekly_rest_hours`` consecutive hours off in every 7-day period.

    The 7-day periods are fixed from the roster's first day (a Monday by default). A last,
    shorter period is checked over 7 days too, the days after the roster counting as free.
    """
    if not work:
        return []
    ends = [e for _, e in work]
    need = rs.weekly_rest_hours * HOUR
    out = []
    for a, _, _ in week_windows(roster):
        b = day_ts(local_date(a) + timedelta(days=7))
        free = longest_free(work, ends, a, b)
        if free < need:
            out.append(
                _breach(
                    staff,
                    WEEKLY_REST,
                    a,
                    b,
                    f"Longest rest {hours(free)} h in the 7-day period from {fmt(a)}; at least "
                    f"{rs.weekly_rest_hours} h required (ATL 14 §).",
                )
            )
    return out


def leave_days(roster: Roster, staff: str) -> int:
    """Return how many days of the roster period ``staff`` is on leave."""
    days = set()
    for item in roster.leave.get(staff, ()):
        day = max(item.first_day, roster.period_start)
        while day <= min(item.last_day, roster.period_end):
            days.add(day)
            day += timedelta(days=1)
    return len(days)


def contract_target_hours(roster: Roster, staff: Staff) -> float:
    """Return the hours ``staff`` should be scheduled: rate × full time, pro rata off leave."""
    rs = roster.ruleset
    available = roster.days - leave_days(roster, staff.id)
    return staff.employment_rate * rs.full_time_hours_per_week * available / 7


def average_week_breaches(
    staff: Staff,
    work: list[tuple[int, int]],
    roster: Roster,
    rs: Ruleset,
    shifts: list[Shift],
) -> list[dict]:
    """ATL 5 §: at most 40 h a week on average per reference period; and the contract's hours.

    The reference periods of ``average_week_reference_weeks`` run from the roster's first day;
    a shorter last one is held to the same average, pro rata by days.
    """
    ends = [e for _, e in work]
    out = []
    for a, b, days in week_windows(roster, rs.average_week_reference_weeks):
        seconds = worked(work, ends, a, b)
        allowed = rs.max_average_week_hours * HOUR * days / 7
        if seconds > allowed + 59:
            out.append(
                _breach(
                    staff.id,
                    AVERAGE_WEEK,
                    a,
                    b,
                    f"{hours(seconds)} h in {days} days is {hours(seconds * 7 / days)} h a week "
                    f"on average; at most {rs.max_average_week_hours} h (ATL 5 §).",
                )
            )
    # The contract counts each shift whole on the day it starts (as pay does), so that a
    # night across the period's end belongs to the period it starts in.
    scheduled = sum(s.end - s.start for s in shifts if roster.start_ts <= s.start < roster.end_ts)
    scheduled /= HOUR
    target = contract_target_hours(roster, staff)
    tolerance = rs.contract_tolerance_hours_per_week * roster.days / 7
    if abs(scheduled - target) > tolerance + 1 / 60:
        out.append(
            _breach(
                staff.id,
                AVERAGE_WEEK,
                roster.start_ts,
                roster.end_ts,
                f"Scheduled {round(scheduled, 2)} h against {round(target, 2)} h contracted "
                f"(employment rate {staff.employment_rate:g}) ± {round(tolerance, 2)} h.",
            )
        )
    return out


def night_seconds(start: int, end: int, rs: Ruleset) -> int:
    """Return the seconds of ``[start, end)`` that fall in the night (22–06 local)."""
    total = 0
    day = local_date(start) - timedelta(days=1)
    last = local_date(end)
    overnight = rs.night_end <= rs.night_start
    while day <= last:
        a = day_ts(day, rs.night_start)
        b = day_ts(day + timedelta(days=1) if overnight else day, rs.night_end)
        total += max(0, min(end, b) - max(start, a))
        day += timedelta(days=1)
    return total


def is_night_worker(staff: Staff, shifts: list[Shift], rs: Ruleset) -> bool:
    """ATL 13 a §: contracted night-only, or normally ≥ 3 h of the shift at night (at least
    half of the shifts), or at least a third of the working time at night."""
    if staff.night_only:
        return True
    if not shifts:
        return False
    nights = [night_seconds(s.start, s.end, rs) for s in shifts]
    normally = sum(n >= rs.night_worker_min_hours * HOUR for n in nights) * 2 >= len(shifts)
    third = sum(nights) * 3 >= sum(s.end - s.start for s in shifts)
    return normally or third


def night_work_breaches(
    staff: Staff, shifts: list[Shift], work: list[tuple[int, int]], roster: Roster, rs: Ruleset
) -> list[dict]:
    """ATL 13 a §: a night worker works at most 8 h per 24-hour period on average over the
    reference period; the weekly rest is not counted as 24-hour periods of work."""
    if not is_night_worker(staff, shifts, rs):
        return []
    ends = [e for _, e in work]
    out = []
    for a, b, days in week_windows(roster, rs.night_reference_weeks):
        seconds = worked(work, ends, a, b)
        if not seconds:
            continue
        span = b - a
        if rs.night_average_excludes_weekly_rest:
            span -= rs.weekly_rest_hours * HOUR * days / 7
        per_day = seconds / (span / DAY)
        if per_day > rs.night_max_hours * HOUR + 59:
            out.append(
                _breach(
                    staff.id,
                    NIGHT_WORK,
                    a,
                    b,
                    f"Night worker: {hours(seconds)} h over {round(span / DAY, 2)} 24-hour "
                    f"periods is {hours(per_day)} h per period on average; at most "
                    f"{rs.night_max_hours} h (ATL 13 a §).",
                )
            )
    return out


def overlap_breaches(staff: str, shifts: list[Shift]) -> list[dict]:
    """One person cannot work two shifts at the same time."""
    out = []
    latest: Shift | None = None
    for shift in sorted(shifts, key=lambda s: (s.start, s.end)):
        if latest is not None and shift.start < latest.end:
            out.append(
                _breach(
                    staff,
                    OVERLAP,
                    shift.start,
                    min(shift.end, latest.end),
                    f"The shift {fmt(shift.start)}–{fmt(shift.end)} overlaps "
                    f"{fmt(latest.start)}–{fmt(latest.end)}.",
                )
            )
        if latest is None or shift.end > latest.end:
            latest = shift
    return out


def leave_breaches(staff: str, shifts: list[Shift], roster: Roster) -> tuple[list[dict], set]:
    """Nobody on leave is scheduled; return the breaches and the shifts on leave."""
    out, on_leave = [], set()
    for item in roster.leave.get(staff, ()):
        for shift in shifts:
            if shift.start < item.end and item.start < shift.end:
                on_leave.add(shift)
                kind = f" ({item.kind})" if item.kind else ""
                out.append(
                    _breach(
                        staff,
                        LEAVE,
                        max(shift.start, item.start),
                        min(shift.end, item.end),
                        f"On leave{kind} {item.first_day.isoformat()}–{item.last_day.isoformat()}.",
                    )
                )
    return out, on_leave


def _describe(need: Need) -> str:
    parts = []
    if need.roles:
        parts.append("/".join(sorted(need.roles)))
    if need.competences:
        parts.append(", ".join(sorted(need.competences)))
    return " with ".join(parts) if parts else "any role"


def coverage(roster: Roster, on_leave: set) -> tuple[list[dict], list[dict]]:
    """Match shifts to needs; return competence breaches and uncovered needs.

    A shift that names its need (the proposer's, kept on edits) covers it if the times still
    contain the need and the person qualifies; a person without the role or competence is a
    breach. Other shifts cover whatever need their times contain and their person qualifies
    for, chosen by a maximum matching so that the order of the shifts does not matter.
    """
    breaches: list[dict] = []
    by_id = {n.id: n for n in roster.needs}
    load = {n.id: 0 for n in roster.needs}
    holders: dict[str, list[int]] = {n.id: [] for n in roster.needs}
    by_start = sorted(roster.needs, key=lambda n: n.start)
    starts = [n.start for n in by_start]
    free: list[tuple[int, list[str]]] = []
    for i, shift in enumerate(roster.shifts):
        if shift in on_leave:
            continue
        person = roster.staff[shift.staff]
        need = by_id.get(shift.need) if shift.need else None
        if need is not None and shift.start <= need.start and need.end <= shift.end:
            if not need.admits(person):
                breaches.append(
                    _breach(
                        person.id,
                        COMPETENCE,
                        shift.start,
                        shift.end,
                        f"The need {need.id} asks for {_describe(need)}; {person.id} has "
                        f"{'/'.join(sorted(person.roles))}"
                        + (
                            f" with {', '.join(sorted(person.competences))}"
                            if person.competences
                            else ""
                        )
                        + ".",
                    )
                )
                continue
            if load[need.id] < need.count:
                load[need.id] += 1
                holders[need.id].append(i)
                continue
        lo, hi = bisect_left(starts, shift.start), bisect_right(starts, shift.end)
        options = [n.id for n in by_start[lo:hi] if n.end <= shift.end and n.admits(person)]
        if options:
            free.append((i, options))
    options_of = dict(free)

    def assign(i: int, seen: set) -> bool:
        for nid in options_of[i]:
            if nid in seen:
                continue
            seen.add(nid)
            if load[nid] < by_id[nid].count:
                load[nid] += 1
                holders[nid].append(i)
                return True
            for j in list(holders[nid]):
                if j in options_of and assign(j, seen):
                    holders[nid].remove(j)
                    holders[nid].append(i)
                    return True
        return False

    for i, _ in sorted(free, key=lambda f: len(f[1])):
        assign(i, set())
    uncovered = [
        {
            "need": n.id,
            "date": n.date.isoformat(),
            "shift": n.shift,
            "start": fmt(n.start),
            "end": fmt(n.end),
            "count": n.count,
            "covered": load[n.id],
            "missing": n.count - load[n.id],
            "roles": sorted(n.roles),
            "competences": sorted(n.competences),
        }
        for n in roster.needs
        if load[n.id] < n.count
    ]
    uncovered.sort(key=lambda u: (u["start"], u["need"]))
    return breaches, uncovered


def check_built(roster: Roster) -> dict:
    """``check`` on an already built ``Roster`` (the solver's verification uses it)."""
    rs = roster.ruleset
    by_staff: dict[str, list[Shift]] = {sid: [] for sid in roster.staff}
    for shift in roster.shifts:
        by_staff[shift.staff].append(shift)
    breaches: list[dict] = []
    on_leave_all: set = set()
    for sid, shifts in by_staff.items():
        person = roster.staff[sid]
        work = merge([(s.start, s.end) for s in shifts])
        breaches += overlap_breaches(sid, shifts)
        found, on_leave = leave_breaches(sid, shifts, roster)
        breaches += found
        on_leave_all |= on_leave
        breaches += daily_rest_breaches(sid, work, roster, rs)
        breaches += weekly_rest_breaches(sid, work, roster, rs)
        breaches += average_week_breaches(person, work, roster, rs, shifts)
        breaches += night_work_breaches(person, shifts, work, roster, rs)
    competence, uncovered = coverage(roster, on_leave_all)
    breaches += competence
    breaches.sort(key=lambda b: (b["start"], b["staff"], b["rule"], b["end"]))
    return {"breaches": breaches, "uncovered": uncovered}


def check(roster) -> dict:
    """Return every rule breach and every uncovered need of ``roster`` (JSON dict or RosterIn).

    Pure: reads nothing, writes nothing. Raises ``RosterError`` for input that cannot be read.
    """
    return check_built(roster_build(roster))


def roster_summary(roster) -> dict:
    """Per person: scheduled and contracted hours, weekend and night shifts (the fairness
    columns of the manager's grid)."""
    built = roster if isinstance(roster, Roster) else roster_build(roster)
    rs = built.ruleset
    out = {}
    for sid, person in built.staff.items():
        shifts = [s for s in built.shifts if s.staff == sid]
        out[sid] = {
            "scheduled_hours": hours(
                sum(s.end - s.start for s in shifts if built.start_ts <= s.start < built.end_ts)
            ),
            "contracted_hours": round(contract_target_hours(built, person), 2),
            "weekend_shifts": sum(local_date(s.start).weekday() >= 5 for s in shifts),
            "night_shifts": sum(
                night_seconds(s.start, s.end, rs) >= rs.night_worker_min_hours * HOUR
                for s in shifts
            ),
            "night_worker": is_night_worker(person, shifts, rs),
        }
    return out
