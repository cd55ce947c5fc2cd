from django.core.management.base import BaseCommand

from municipality.demo import DEMO_PASSWORD, demo_organisation_load


class Command(BaseCommand):
    help = (
        "Load the demo organisation (unit, staff, delegation order, integration token). Idempotent."
    )

    def handle(self, *args, **options):
        result = demo_organisation_load()
        self.stdout.write(f"Demo organisation ready: {result['unit']}")
        self.stdout.write(
            f"Logins (password {DEMO_PASSWORD}): "
            + ", ".join(u for u in result["users"] if u != "etjanst")
        )
        self.stdout.write(f"Integration token: {result['token']}")
