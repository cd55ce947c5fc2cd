import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from flows.kassaavstamning.camt053 import parse_camt053
from flows.kassaavstamning.config import config_for
from flows.kassaavstamning.errors import InputFileError
from flows.kassaavstamning.money import format_kronor
from flows.kassaavstamning.reconcile import MATCHED, month_of, month_summary, reconcile
from flows.kassaavstamning.sie4 import parse_sie4
from flows.kassaavstamning.till import parse_z_reports

NO_CASH_POINT = "(ingen kassapunkt)"
# Bad input files exit with 2, like argparse's usage errors, so scripts can tell them apart.
BAD_INPUT_EXIT_CODE = 2


def _bad_input(message: str) -> CommandError:
    return CommandError(message, returncode=BAD_INPUT_EXIT_CODE)


class Command(BaseCommand):
    help = (
        "Reconcile the tills' Z-reports against a camt.053 bank statement and a SIE 4 ledger "
        "export, and print per cash point and day 'matched' or each difference (amounts in "
        "öre). Writes nothing and starts no flow."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bank", required=True, help="ISO 20022 camt.053 statement (XML).")
        parser.add_argument("--ledger", required=True, help="SIE 4 export of the ledger (PC8).")
        parser.add_argument("--till", required=True, help="Z-report CSV (see the README).")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")

    def handle(self, *args, bank, ledger, till, **options):
        till_reports = self._read(till, "till", parse_z_reports_any)
        first_day = min(r.date for r in till_reports)
        try:
            config = config_for(first_day.replace(day=1))
        except LookupError as exc:
            raise _bad_input(str(exc)) from None
        unknown = sorted({r.cash_point for r in till_reports} - config.codes)
        if unknown:
            raise _bad_input(
                f"{till}: unknown cash point(s) {', '.join(unknown)}; configured: "
                + ", ".join(sorted(config.codes))
            )
        statement = self._read(
            bank, "bank", lambda data: parse_camt053(data, currency=config.currency)
        )
        books = self._read(ledger, "ledger", parse_sie4)
        results = reconcile(bank=statement, ledger=books, till=till_reports, config=config)
        month = month_of(results)
        summary = month_summary(results, month=month)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "config_version": config.version,
                        "month": month,
                        "days": [r.as_dict() for r in results],
                        "summary": summary,
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        self._print_text(results, summary, config.version)

    def _read(self, path: str, what: str, parse):
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise _bad_input(f"No such {what} file: {path}") from None
        except OSError as exc:
            raise _bad_input(f"Cannot read {what} file {path}: {exc.strerror}") from None
        try:
            return parse(data)
        except InputFileError as exc:
            raise _bad_input(f"Malformed {what} file {path}: {exc}") from None

    def _print_text(self, results, summary, version) -> None:
        current = object()
        for result in results:
            if result.cash_point != current:
                current = result.cash_point
                self.stdout.write(f"\n{current or NO_CASH_POINT}")
            if result.status == MATCHED:
                note = f"  ({'; '.join(result.notes)})" if result.notes else ""
                self.stdout.write(f"  {result.date}  matched{note}")
                continue
            if not result.differences:
                self.stdout.write(f"  {result.date}  pending: {', '.join(result.pending)}")
                continue
            for d in result.differences:
                self.stdout.write(
                    f"  {result.date}  {d.kind}  expected {d.expected}  found {d.found}  "
                    f"({format_kronor(d.found - d.expected)}) {d.detail}"
                )
        self.stdout.write(f"\nSummary ({version})")
        for row in summary:
            self.stdout.write(
                f"  {row['cash_point'] or NO_CASH_POINT}: {row['days']} days, "
                f"{row['matched']} matched, {row['pending']} pending, "
                f"{len(row['open_differences'])} open differences "
                f"({format_kronor(row['open_amount'])})"
            )


def parse_z_reports_any(data: bytes):
    """Z-reports of any cash point; the command checks the codes against the configuration."""
    return parse_z_reports(data)
