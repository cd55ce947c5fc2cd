"""Shared helpers for the skolplikt robot's tests: demo data, the run endpoint, cases."""

import json
import shutil
from pathlib import Path

from flows.skolplikt.demo import DEMO_SKOLPLIKT_TOKEN

DEMO = Path(__file__).resolve().parents[3] / "data" / "skolplikt"
MONTH = "2026-11"
RUN_PATH = "/api/v1/runs/skolplikt/"
# The demo children the November scan flags (see `manage.py skolplikt_scan`).
FLAGGED_NOVEMBER = 8
BO_LIND = "201405219823"  # absence, two guardians
ELIAS_BERG = "201904159850"  # enrolled nowhere, two guardians
JUNI_ABERG = "201102239918"  # protected identity, absence


def demo_register() -> dict:
    return json.loads((DEMO / "folkbokforing.json").read_text(encoding="utf-8"))


def demo_child(number: str) -> dict:
    return next(c for c in demo_register()["children"] if c["personnummer"] == number)


def source_with(tmp_path: Path, *, children: list[str] | None = None, edit=None) -> Path:
    """A copy of the demo sources, optionally with only some children or an edited register."""
    target = tmp_path / "skolplikt"
    shutil.copytree(DEMO, target)
    register = demo_register()
    if children is not None:
        register["children"] = [c for c in register["children"] if c["personnummer"] in children]
    if edit is not None:
        edit(register)
    (target / "folkbokforing.json").write_text(
        json.dumps(register, ensure_ascii=False), encoding="utf-8"
    )
    return target


def run(api_post, month=MONTH, *, auth=DEMO_SKOLPLIKT_TOKEN):
    """POST a scan run for `month` with the process owner's integration token."""
    return api_post(RUN_PATH, {"month": month}, auth=auth)


def case_of(number: str, month: str = MONTH):
    """The child's case of `month`."""
    from approvals.models import Case

    return Case.objects.get(
        process="skolplikt",
        parties__role="child",
        parties__personnummer=number,
        data__month=month,
    )


def identifying_forms(child: dict) -> set[str]:
    """Everything that would identify a child: numbers, names, addresses, of the guardians too."""
    forms = set()
    people = [child, *child["guardians"]]
    for person in people:
        digits = person["personnummer"]
        forms |= {digits, f"{digits[:8]}-{digits[8:]}", digits[2:], person["name"]}
        if person.get("address"):
            forms.add(person["address"]["street"])
    return forms
