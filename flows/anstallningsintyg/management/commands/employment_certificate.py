import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from flows.anstallningsintyg.connectors import get_hr_connector
from flows.anstallningsintyg.connectors.hr import EmployeeNotFound, HRError
from flows.anstallningsintyg.rules import (
    KIND_ANSTALLNINGSINTYG,
    KIND_ARBETSGIVARINTYG,
    KINDS,
    CertificateNotSettled,
    arbetsgivarintyg_content,
    certificate_content,
)

# Exit statuses: 2 for what the caller got wrong (unknown employee, bad date) or an HR
# system that cannot be read; 1 when the data needs an HR officer; 0 with the content.
EXIT_USAGE = 2
EXIT_NOT_SETTLED = 1


class Command(BaseCommand):
    help = (
        "Print the content of an employee's anställningsintyg or arbetsgivarintyg from the HR "
        "system, or the findings that keep the robot from writing it (exit status 1). Writes "
        "nothing: no document, no delivery, no case."
    )

    def add_arguments(self, parser):
        parser.add_argument("--employee", required=True, help="Employee id in the HR system.")
        parser.add_argument("--kind", choices=KINDS, default=KIND_ANSTALLNINGSINTYG)
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        parser.add_argument(
            "--date", help="Issue date YYYY-MM-DD (default: today); makes output reproducible."
        )
        parser.add_argument("--employment", help="Arbetsgivarintyg for this employment id only.")
        parser.add_argument(
            "--without-worked-time",
            action="store_true",
            help="Arbetsgivarintyg without hours and pay per month (income-based rules only).",
        )

    def handle(self, *args, **options):
        kind, employment = options["kind"], options["employment"]
        as_json = options["json"]
        issued_on = self._date(options["date"])
        if employment and kind != KIND_ARBETSGIVARINTYG:
            raise CommandError(
                "--employment applies to --kind arbetsgivarintyg only.", returncode=EXIT_USAGE
            )
        connector = get_hr_connector()
        try:
            person = connector.employee(options["employee"])
            employer = connector.employer()
        except EmployeeNotFound as exc:
            raise CommandError(str(exc), returncode=EXIT_USAGE) from None
        except HRError as exc:
            raise CommandError(
                f"The HR system cannot be read: {exc}", returncode=EXIT_USAGE
            ) from None
        try:
            if kind == KIND_ANSTALLNINGSINTYG:
                content = certificate_content(person, employer=employer, issued_on=issued_on)
            else:
                content = arbetsgivarintyg_content(
                    person,
                    employer=employer,
                    issued_on=issued_on,
                    employment_id=employment,
                    include_worked_time=not options["without_worked_time"],
                )
        except CertificateNotSettled as exc:
            self._write(exc.as_dict(), as_json=as_json)
            raise CommandError(
                "The HR data does not settle the certificate (for an HR officer): "
                + ", ".join(exc.codes),
                returncode=EXIT_NOT_SETTLED,
            ) from None
        self._write(content, as_json=as_json)

    @staticmethod
    def _date(value: str | None) -> date:
        if value is None:
            return date.today()
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CommandError(
                f"--date must be YYYY-MM-DD, got {value!r}.", returncode=EXIT_USAGE
            ) from None

    def _write(self, data: dict, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        if "findings" in data:
            for finding in data["findings"]:
                where = (
                    f" [{', '.join(finding['employment_ids'])}]"
                    if finding["employment_ids"]
                    else ""
                )
                self.stdout.write(f"{finding['code']}{where}: {finding['message']}")
            return
        self.stdout.write(
            f"{data['kind']} {data['employee']['id']} {data['employee']['name']}, "
            f"{data['employer']['name']}, {data['issued_on']}"
        )
        for e in data["employments"]:
            end = e["end"] or "tills vidare"
            line = (
                f"  {e['employment_id']}: {e['position']}, {e['form_label']}, {e['start']} – {end}"
            )
            if data["kind"] == KIND_ARBETSGIVARINTYG and e["end_reason_label"]:
                line += f", {e['end_reason_label']}"
            self.stdout.write(line)
