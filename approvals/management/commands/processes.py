"""`manage.py processes [--json]`: the registered processes and their declarations."""

import json

from django.core.management.base import BaseCommand

from approvals.registry import registry


class Command(BaseCommand):
    help = "List the registered processes (slug, name, public authority, decision mode, triggers)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the declarations as JSON.")

    def handle(self, *args, **options):
        processes = [spec.as_dict() for spec in registry.all()]
        if options["json"]:
            self.stdout.write(json.dumps(processes, ensure_ascii=False, indent=2))
            return
        for p in processes:
            authority = "myndighetsutövning" if p["public_authority"] else "service"
            self.stdout.write(
                f"{p['slug']}: {p['name']} — {authority}, mode {p['decision_mode']}, "
                f"unit {p['unit']}, starts by {', '.join(p['triggers'])}, "
                f"decision types {', '.join(d['code'] for d in p['decision_types']) or '–'}"
            )
