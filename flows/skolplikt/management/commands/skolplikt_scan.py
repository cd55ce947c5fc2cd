import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from flows.skolplikt.connectors.population import FilePopulationRegister, PopulationRegisterError
from flows.skolplikt.connectors.ss12000 import FileSs12000Source, Ss12000Error
from flows.skolplikt.report import HINT_LABELS_SV, REASON_LABELS_SV, scan_list
from flows.skolplikt.rulesets import RulesetError
from flows.skolplikt.scan import scan

# Bad input is the caller's to fix: exit status 2, as argparse uses for usage errors.
BAD_INPUT_EXIT_STATUS = 2


def _bad_input(message: str) -> CommandError:
    return CommandError(message, returncode=BAD_INPUT_EXIT_STATUS)


def _percent(value: str) -> str:
    return value.replace(".", ",") + " %"


def _minutes(value: int) -> str:
    return f"{value // 60} h {value % 60:02d} min"


class Command(BaseCommand):
    help = (
        "Scan one month for school-attendance monitoring (bevakning av skolplikten): read the "
        "population-register file DIR/folkbokforing.json and the SS 12000 files in "
        "DIR/ss12000/, and print the children that would be flagged (not enrolled, gaps "
        "between placements, absence over the thresholds, missing school reports) with the "
        "figures and the rule version. Protected children are printed without name or "
        "address. Writes nothing and starts no flow."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="The month to scan, YYYY-MM.")
        parser.add_argument(
            "--source", required=True, help="Directory with folkbokforing.json and ss12000/."
        )
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")

    def handle(self, *args, month, source, json, **options):
        directory = Path(source)
        if not directory.is_dir():
            raise _bad_input(f"No such directory: {source}")
        try:
            result = scan(
                month=month,
                register=FilePopulationRegister(directory),
                ss12000=FileSs12000Source(directory / "ss12000"),
            )
        except RulesetError as exc:
            raise _bad_input(f"{exc.code}: {exc.message}") from None
        except (Ss12000Error, PopulationRegisterError) as exc:
            raise _bad_input(f"{exc.code}: {exc.message}") from None
        data = scan_list(result)
        if json:
            self.stdout.write(_dumps(data))
        else:
            self.stdout.write(self._text(data))

    def _text(self, data) -> str:
        lines = [
            f"Bevakning av skolplikten {data['month']} · kommun {data['municipality_code']} · "
            f"regelverk {data['ruleset_version']}",
        ]
        if not data["checked"]:
            lines.append(data["note"])
            return "\n".join(lines)
        lines.append(
            f"Folkbokförda barn: {data['children_registered']}, i skolpliktig ålder: "
            f"{data['children_of_compulsory_age']}, flaggade: {len(data['flagged'])}"
        )
        for school in data["schools_without_report"]:
            lines.append(
                f"Ingen närvarorapport från {school['name']} ({school['school_unit_code']})"
            )
        for child in data["flagged"]:
            lines.append("")
            marker = " [skyddad identitet]" if child["protected"] else ""
            lines.append(f"{child['personnummer']} {child['name']}{marker}")
            lines.append("  " + "; ".join(REASON_LABELS_SV[r] for r in child["reasons"]))
            lines.extend("  " + HINT_LABELS_SV[h] for h in child["hints"])
            for placement in child["placements"]:
                kind = "fristående" if placement["school"]["independent"] else "kommunal"
                lines.append(
                    f"  {placement['school']['name']} ({kind}) {placement['school_type']} "
                    f"åk {placement['school_year']}: {placement['start']}–{placement['end']}"
                )
            absence = child["absence"]
            if absence:
                lines.append(
                    f"  Schemalagt {_minutes(absence['scheduled_minutes'])}, frånvaro "
                    f"{_minutes(absence['absent_minutes'])} ({_percent(absence['total_absence_percent'])}), "
                    f"ogiltig {_minutes(absence['unexcused_minutes'])} "
                    f"({_percent(absence['unexcused_percent'])}), hela dagar ogiltig "
                    f"{absence['unexcused_whole_days']}"
                )
                for week in absence["weeks"]:
                    lines.append(
                        f"    {week['week']}: schemalagt {week['scheduled_minutes']} min, "
                        f"ogiltig {week['unexcused_minutes']} min, giltig "
                        f"{week['valid_absence_minutes']} min"
                    )
            if child["gap_school_days"]:
                days = child["gap_school_days"]
                lines.append(f"  Utan placering {len(days)} skoldagar: {days[0]}–{days[-1]}")
            for missing in child["missing_reports"]:
                lines.append(
                    f"  Rapport saknas från {missing['school']['name']} "
                    f"{missing['start']}–{missing['end']}"
                )
        return "\n".join(lines)


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
