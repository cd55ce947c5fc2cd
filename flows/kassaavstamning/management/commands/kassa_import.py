from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from flows.kassaavstamning import steps
from flows.kassaavstamning.intake import ImportRefused, folder_files, import_store
from flows.kassaavstamning.models import KassaImport

BAD_INPUT_EXIT_CODE = 2


class Command(BaseCommand):
    help = (
        "Import a bank statement (camt.053), a ledger export (SIE 4) and the Z-reports (CSV) "
        "as the robot account, like POST /api/v1/imports/: opens one import case whose flow "
        "run reconciles them (or finds the case of the same three files). Give the three "
        "files, or --folder with exactly one .xml, one .se and one .csv."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bank", help="ISO 20022 camt.053 statement (XML).")
        parser.add_argument("--ledger", help="SIE 4 export of the ledger (PC8).")
        parser.add_argument("--till", help="Z-report CSV.")
        parser.add_argument("--folder", help="A folder holding the three files.")

    def handle(self, *args, bank, ledger, till, folder, **options):
        given = [p for p in (bank, ledger, till) if p]
        if folder and given or not folder and len(given) != 3:
            raise CommandError(
                "Give --bank, --ledger and --till, or --folder alone.",
                returncode=BAD_INPUT_EXIT_CODE,
            )
        try:
            if folder:
                files = folder_files(Path(folder))
            else:
                files = {
                    name: (Path(path).name, Path(path).read_bytes())
                    for name, path in (("bank", bank), ("ledger", ledger), ("till", till))
                }
            row, created = import_store(
                files=files, source=KassaImport.Source.COMMAND, received_by=steps.robot_account()
            )
        except OSError as exc:
            raise CommandError(
                f"Cannot read {exc.filename}: {exc.strerror}", returncode=BAD_INPUT_EXIT_CODE
            ) from None
        except ImportRefused as exc:
            lines = [f"{name}: {message}" for name, msgs in exc.errors.items() for message in msgs]
            raise CommandError(
                "Refused:\n" + "\n".join(lines), returncode=BAD_INPUT_EXIT_CODE
            ) from None
        what = "new import" if created else "already imported"
        self.stdout.write(
            f"{what}: case {row.case_id} ({row.case.status}), "
            f"{row.first_day}–{row.last_day}, sha256 {row.sha256}"
        )
