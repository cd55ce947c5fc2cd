import datetime as dt
import json
import os

from django.core.management.base import BaseCommand, CommandError

from flows.bibliotek_aterlan.export import LoansExportError, loans_export_parse, loans_export_read
from flows.bibliotek_aterlan.notices import notices_for_run
from flows.bibliotek_aterlan.renewals import LibraryUnavailable, loans_from_patrons, renewal_run
from flows.bibliotek_aterlan.rules import due_loan_from_export
from flows.bibliotek_aterlan.simulator import SIP2Simulator
from flows.bibliotek_aterlan.sip2 import SIP2Client, SIP2Error


class Command(BaseCommand):
    help = (
        "Renew the library loans due within N days over SIP2 and print, per loan, 'renewed' "
        "or the exception and why. Without --host it starts the bundled SIP2 simulator with "
        "synthetic patrons on a free local port. --dry-run sends no Renew. Writes nothing to "
        "the database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--due-within",
            type=int,
            default=3,
            metavar="DAYS",
            help="Loans due within this many days (default 3).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Read patrons and items only; send no Renew."
        )
        parser.add_argument("--json", action="store_true", help="Print the run as JSON.")
        parser.add_argument(
            "--notices", action="store_true", help="Also print the patrons' e-mails (not sent)."
        )
        parser.add_argument("--host", help="SIP2 server (ACS) host; with --port.")
        parser.add_argument("--port", type=int, help="SIP2 server (ACS) port.")
        parser.add_argument(
            "--export",
            metavar="FILE",
            help="Loans export (CSV, format version 1) to take the loans from.",
        )
        parser.add_argument(
            "--patron",
            action="append",
            default=[],
            metavar="CARD",
            help="Read this patron's loans over SIP2 (63/64); repeatable.",
        )
        parser.add_argument("--institution", default=None, help="SIP2 institution id (AO).")
        parser.add_argument(
            "--login-user",
            default=os.environ.get("SIP2_LOGIN_USER"),
            help="SIP2 terminal account (default: $SIP2_LOGIN_USER).",
        )
        parser.add_argument(
            "--login-password",
            default=os.environ.get("SIP2_LOGIN_PASSWORD"),
            help="SIP2 terminal password (default: $SIP2_LOGIN_PASSWORD).",
        )
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            default=None,
            help="The run's date, YYYY-MM-DD (default: today).",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=5.0,
            help="Seconds to wait for each answer (default 5).",
        )

    def handle(self, *args, **options):
        within = options["due_within"]
        if within < 0:
            raise CommandError("--due-within must be 0 or more", returncode=2)
        if (options["host"] is None) != (options["port"] is None):
            raise CommandError("give --host and --port together", returncode=2)
        today = options["today"] or dt.date.today()
        export_rows = None
        if options["export"]:
            try:
                export_rows = loans_export_read(options["export"])
            except LoansExportError as exc:
                raise CommandError(f"Loans export: {exc}", returncode=2) from None

        simulator = None
        if options["host"] is None:
            simulator = SIP2Simulator(today=today).start()
            host, port = simulator.host, simulator.port
            account = simulator.data.terminal_accounts[0]
            user, password, location = account.user, account.password, account.location
            institution = options["institution"] or simulator.data.institution
            if export_rows is None and not options["patron"]:
                # Tonight's export, as the (simulated) library system writes it.
                export_rows = loans_export_parse(simulator.library.export_csv())
        else:
            host, port = options["host"], options["port"]
            user, password, location = options["login_user"], options["login_password"], ""
            institution = options["institution"]
            if not (user and password and institution):
                raise CommandError(
                    "against a real ACS give --institution, --login-user and --login-password "
                    "(or $SIP2_LOGIN_USER / $SIP2_LOGIN_PASSWORD)",
                    returncode=2,
                )
            if export_rows is None and not options["patron"]:
                raise CommandError("give --export FILE or --patron CARD", returncode=2)
        try:
            with SIP2Client(
                host, port, institution=institution, timeout=options["timeout"]
            ) as client:
                client.login(user, password, location=location)
                loans = [due_loan_from_export(r) for r in export_rows or []]
                if options["patron"]:
                    loans += loans_from_patrons(client=client, patron_ids=options["patron"])
                run = renewal_run(
                    client=client,
                    loans=loans,
                    today=today,
                    within_days=within,
                    dry_run=options["dry_run"],
                )
        except SIP2Error as exc:
            raise CommandError(f"SIP2 ({exc.code}): {exc}") from None
        except LibraryUnavailable as exc:
            raise CommandError(f"{exc.code}: {exc}") from None
        finally:
            if simulator is not None:
                simulator.stop()
        notices = notices_for_run(run.outcomes) if options["notices"] else []
        if options["json"]:
            data = run.as_dict()
            if options["notices"]:
                data["notices"] = [n.__dict__ for n in notices]
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        self._print_text(run, notices)

    def _print_text(self, run, notices):
        mode = " (dry run: no Renew sent)" if run.dry_run else ""
        self.stdout.write(
            f"{run.acs.library_name or run.acs.institution}: loans due by "
            f"{(run.today + dt.timedelta(days=run.within_days)).isoformat()}{mode}"
        )
        for o in run.outcomes:
            head = f"{o.loan.patron_id}  {o.loan.item_id}  due {o.loan.due_date.isoformat()}  "
            if o.status == "renewed":
                line = f"renewed, new due date {o.new_due_date.isoformat()}"
            elif o.status == "would_renew":
                line = "would renew"
            else:
                why = o.screen_message or o.detail
                line = f"exception: {o.reason}" + (f" ({why})" if why else "")
            self.stdout.write(f"{head}{line}  {o.loan.title}")
        counts = ", ".join(f"{k} {v}" for k, v in run.counts.items())
        self.stdout.write(f"{len(run.outcomes)} loans: {counts or 'none due'}")
        for n in notices:
            self.stdout.write(f"\nTo: {n.to}\nSubject: {n.subject}\n\n{n.body}")
