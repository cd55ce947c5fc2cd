import json

from django.core.management.base import BaseCommand

from flows.schemalaggning.roster import RosterError
from flows.schemalaggning.rules import check

from ._roster_io import roster_error, roster_read, verdict_text


class Command(BaseCommand):
    help = (
        "Check a roster JSON file against its working-time rule set (Arbetstidslagen 1982:673 "
        "and the agreement's options) and the staffing needs; print every breach and every "
        "uncovered need. Exits 0 with or without breaches; writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the roster JSON.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")

    def handle(self, *args, file, json: bool = False, **options):
        roster = roster_read(file)
        try:
            verdict = check(roster)
        except RosterError as exc:
            raise roster_error(exc) from None
        if json:
            self.stdout.write(_dumps(verdict))
        else:
            self.stdout.write(verdict_text(verdict))


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
