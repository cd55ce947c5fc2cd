from django.core.management.base import BaseCommand

from municipality.demo import DEMO_PASSWORD, demo_organisation_load


class Command(BaseCommand):
    help = (
        "Load the demo organisation (unit, staff, delegation order, integration token). Idempotent."
    )

    def handle(self, *args, **options):
        result = demo_organisation_load()
        units = ", ".join(str(unit) for unit in result["units"].values())
        self.stdout.write(f"Demo organisation ready: {units}")
        self.stdout.write(
            f"Logins (password {DEMO_PASSWORD}): "
            + ", ".join(
                name
                for name, user in result["users"].items()
                if user.has_usable_password()
            )
        )
        self.stdout.write(f"Integration token: {result['token']}")
