import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from pydantic import ValidationError

from flows.ekonomiskt_bistand.calculation import calculate_bistand
from flows.ekonomiskt_bistand.schemas import ApplicationV1


class Command(BaseCommand):
    help = (
        "Compute ekonomiskt bistånd for an application JSON file (format version 1) and print "
        "the calculation as JSON. Writes nothing and starts no flow."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the application JSON.")

    def handle(self, *args, file, **options):
        try:
            data = json.loads(Path(file).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"Malformed JSON in {file}: {exc}") from None
        try:
            application = ApplicationV1.model_validate(data).model_dump(mode="json")
        except ValidationError as exc:
            raise CommandError(f"Invalid application:\n{exc}") from None
        calculation = calculate_bistand(application=application)
        self.stdout.write(json.dumps(calculation.as_dict(), ensure_ascii=False, indent=2))
