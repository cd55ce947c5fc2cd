import time

from django.core.management.base import BaseCommand

from approvals.callbacks import callbacks_deliver_due
from approvals.prefect_gateway import commands_deliver_due


class Command(BaseCommand):
    help = (
        "Deliver pending flow starts and resumes to Prefect, and callbacks to applicants' "
        "systems; with --loop, keep retrying."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Run until interrupted.")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between rounds.")

    def handle(self, *args, loop=False, interval=2.0, **options):
        while True:
            delivered, pending = commands_deliver_due()
            sent, waiting = callbacks_deliver_due()
            if delivered or pending or sent or waiting or not loop:
                self.stdout.write(
                    f"delivered {delivered}, still pending {pending}; "
                    f"callbacks sent {sent}, waiting {waiting}"
                )
            if not loop:
                return
            time.sleep(interval)
