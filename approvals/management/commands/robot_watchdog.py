"""`manage.py robot_watchdog [--every S]`: restart stuck robots, hand the rest to operators."""

import time

from django.core.management.base import BaseCommand

from approvals.watchdog import watchdog_run


class Command(BaseCommand):
    help = (
        "Find cases whose flow run crashed, failed, was cancelled or stopped making progress; "
        "start their robot again (bounded, with back-off) or hand them to the operators."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, metavar="SECONDS", help="Keep running.")
        silence = parser.add_mutually_exclusive_group()
        silence.add_argument(
            "--silence-minutes",
            type=float,
            default=None,
            help="A run without a sign of life this long counts as stuck "
            "(default: settings.WATCHDOG_SILENCE_SECONDS, 10 minutes).",
        )
        silence.add_argument("--silence-seconds", type=float, help="The same, in seconds.")

    def handle(self, *args, every=None, silence_minutes=None, silence_seconds=None, **options):
        while True:
            report = watchdog_run(silence_minutes=silence_minutes, silence_seconds=silence_seconds)
            self.stdout.write(
                f"checked {report.checked}, restarted {len(report.restarted)}, "
                f"to operators {len(report.handed_to_operator)}, unknown {report.unknown}"
            )
            if not every:
                return
            time.sleep(every)
