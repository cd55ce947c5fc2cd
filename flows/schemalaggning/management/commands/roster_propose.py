import json

from django.core.management.base import BaseCommand, CommandError

from flows.schemalaggning.roster import RosterError
from flows.schemalaggning.solver import propose

from ._roster_io import BAD_INPUT, roster_error, roster_read, verdict_text


class Command(BaseCommand):
    help = (
        "Propose a roster for a JSON file of staff, needs, leave and wishes (no shifts) with "
        "OR-Tools CP-SAT, and print it in the roster_check shape with its breaches, uncovered "
        "needs and the explanation of every rule it could not meet. Writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the roster input JSON (without shifts).")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")
        parser.add_argument(
            "--time-limit", type=float, default=45.0, help="Solver time limit in seconds."
        )
        parser.add_argument("--workers", type=int, default=2, help="Solver worker threads.")

    def handle(self, *args, file, json: bool = False, time_limit=45.0, workers=2, **options):
        if not 0 < time_limit <= 600 or not 1 <= workers <= 16:
            raise CommandError(
                "--time-limit must be in (0, 600] seconds and --workers in 1..16.",
                returncode=BAD_INPUT,
            )
        roster = roster_read(file)
        if roster.shifts:
            raise roster_error(
                RosterError(
                    "PROPOSE_HAS_SHIFTS", f"{file} has shifts; a proposal starts from none."
                )
            )
        try:
            proposal = propose(roster, time_limit=time_limit, num_workers=workers)
        except RosterError as exc:
            raise roster_error(exc) from None
        if json:
            self.stdout.write(_dumps(proposal))
            return
        lines = [
            f"Proposal {proposal['period']['start']} – {proposal['period']['end']}, "
            f"{len(proposal['shifts'])} shifts; solver {proposal['solver']['status']}, "
            f"objective {proposal['solver']['objective']:g}, "
            f"{proposal['solver']['wall_time_s']} s"
        ]
        for s in proposal["shifts"]:
            lines.append(f"  {s['staff']:<8} {s['start']} – {s['end']}  {s.get('shift') or ''}")
        lines.append(verdict_text(proposal))
        if proposal["explanations"]:
            lines.append("Not met:")
            lines += [f"  {e['rule']}: {e['detail']}" for e in proposal["explanations"]]
        self.stdout.write("\n".join(lines))


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
