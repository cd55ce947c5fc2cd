"""Remind caseworkers about requests due soon or overdue, and escalate overdue ones.

Meant to run periodically (e.g. every hour from cron or a systemd timer); each
reminder goes out once per request however often it runs. Nothing is decided:
an overdue request waits for a human.
"""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from approvals.notifications import reminders_send
from approvals.services import completion_deadlines_check


class Command(BaseCommand):
    help = (
        "E-mail the holder (or the unit) about requests due by the next working day or "
        "overdue, and escalate overdue requests to the unit's team leaders, once each; hand "
        "cases whose completion deadline passed back to a caseworker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            help="Run as if today were this date (YYYY-MM-DD); for testing and catch-up runs.",
        )
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="Keep running, once every SECONDS (the demo uses this instead of cron).",
        )

    def handle(self, *args, **options):
        today = None
        if options["today"]:
            try:
                today = date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(
                    f"--today must be a date as YYYY-MM-DD, not {options['today']!r}."
                ) from exc
        while True:
            report = reminders_send(today=today)
            # Requests for completion past their deadline go back to a caseworker.
            handed_back = completion_deadlines_check(today=today)
            self.stdout.write(
                f"due soon: {report.due_soon}, overdue: {report.overdue}, "
                f"escalated: {report.escalated}, e-mails sent: {report.emails}, "
                f"completions past deadline: {handed_back}"
            )
            if not options["every"]:
                return
            time.sleep(options["every"])
