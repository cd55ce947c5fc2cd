"""How the roster robot scales: a 40-person unit over 6 weeks, proposed and then edited.

    python bench/roster.py                      # (make bench)
    python bench/roster.py --staff 15 --weeks 4 --time-limit 20

Generates the synthetic unit (``flows/schemalaggning/generator.py``), proposes a roster with
CP-SAT on ``--workers`` threads (2: this machine has two cores) within ``--time-limit``
seconds, and prints the wall time, the objective and its bound, the breaches and uncovered
needs that ``check`` finds in the proposal. Then it moves one shift to another person, as a
manager does in the grid, and prints the median time of ``check`` over ``--runs`` edits (the
issue asks for 200 ms). Needs no database.
"""

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.schemalaggning.generator import unit_generate  # noqa: E402
from flows.schemalaggning.rules import check  # noqa: E402
from flows.schemalaggning.solver import propose, roster_of  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--staff", type=int, default=40)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--time-limit", type=float, default=45.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30, help="timed checks of one edit")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic unit")
    args = parser.parse_args()

    unit = unit_generate(staff=args.staff, weeks=args.weeks, seed=args.seed)
    units = sum(n["count"] for n in unit["needs"])
    print(f"unit: {args.staff} staff, {args.weeks} weeks, {len(unit['needs'])} needs "
          f"({units} person-shifts), {len(unit['leave'])} leave, {len(unit['wishes'])} wishes")  # fmt: skip
    started = time.perf_counter()
    proposal = propose(unit, time_limit=args.time_limit, num_workers=args.workers)
    wall = time.perf_counter() - started
    solver = proposal["solver"]
    print(f"propose: {wall:.1f} s wall ({solver['solve_time_s']} s in CP-SAT, "
          f"{args.workers} workers, limit {args.time_limit:g} s), status {solver['status']}, "
          f"objective {solver['objective']:g}, bound {solver['best_bound']:g}")  # fmt: skip
    rules = Counter(b["rule"] for b in proposal["breaches"])
    missing = sum(u["missing"] for u in proposal["uncovered"])
    print(f"proposal: {len(proposal['shifts'])} shifts, {len(proposal['breaches'])} breaches "
          f"{dict(rules)}, {missing} person-shifts uncovered, "
          f"{len(proposal['unmet_wishes'])} of {len(unit['wishes'])} wishes unmet")  # fmt: skip

    roster = roster_of(proposal)
    shifts = roster["shifts"]
    people = [p["id"] for p in roster["staff"]]
    timings = []
    for i in range(args.runs):
        edited = dict(roster, shifts=[dict(s) for s in shifts])
        moved = edited["shifts"][(i * 37) % len(shifts)]
        moved["staff"] = people[(people.index(moved["staff"]) + 1 + i) % len(people)]
        t = time.perf_counter()
        verdict = check(edited)
        timings.append((time.perf_counter() - t) * 1000)
    print(f"check of one edit: median {statistics.median(timings):.1f} ms, max "
          f"{max(timings):.1f} ms over {args.runs} edits ({len(shifts)} shifts; last edit "
          f"{len(verdict['breaches'])} breaches)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
