from django.core.management.base import BaseCommand, CommandError

from flows.kassaavstamning import steps

BAD_INPUT_EXIT_CODE = 2


class Command(BaseCommand):
    help = (
        "Write the month-end summary per cash point (a report document on the case of the "
        "newest reconciled import covering the month). Idempotent: a report already written "
        "for the import, cash point and month is listed, not written again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="The month, YYYY-MM.")

    def handle(self, *args, month, **options):
        try:
            steps.month_bounds(month)
        except ValueError:
            raise CommandError(
                f"--month must be YYYY-MM, not {month!r}", returncode=BAD_INPUT_EXIT_CODE
            ) from None
        try:
            documents = steps.month_reports_write(month=month)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT_EXIT_CODE) from None
        for document in documents:
            self.stdout.write(
                f"{document.title}: document {document.pk} on case {document.case_id} "
                f"(sha256 {document.sha256[:16]}…)"
            )
