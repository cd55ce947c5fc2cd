"""Fixtures of the certificate robot's casework tests: an HR register and a delivery folder
of their own per test, and the flow's steps run in this process (without Prefect)."""

import json
import shutil
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HR_DATA = ROOT / "data" / "anstallningsintyg" / "employees.json"

SETTLE_URL = "/p/anstallningsintyg/exceptions/{}/settle/"
SELF_SERVICE_URL = "/p/anstallningsintyg/"
HR_URL = "/p/anstallningsintyg/hr/"


class HRRegister:
    """A copy of the synthetic HR register that a test may correct, as HR would."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / "employees.json"
        shutil.copy(HR_DATA, self.path)

    def employment(self, employee_id: str, employment_id: str, **changes) -> None:
        data = json.loads(self.path.read_text(encoding="utf-8"))
        employee = next(e for e in data["employees"] if e["id"] == employee_id)
        employment = next(e for e in employee["employments"] if e["id"] == employment_id)
        employment.update(changes)
        self.path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def hr_register(tmp_path, settings) -> HRRegister:
    folder = tmp_path / "hr"
    folder.mkdir()
    settings.ANSTALLNINGSINTYG_HR_DATA_DIR = folder
    return HRRegister(folder)


@pytest.fixture
def delivery_dir(tmp_path, settings) -> Path:
    folder = tmp_path / "akassa"
    settings.ANSTALLNINGSINTYG_DELIVERY_DIR = folder
    return folder


class InProcessRun:
    """The flow's steps in the order flow.py calls them, for one case, without Prefect."""

    def __init__(self, case_id: int):
        from flows.anstallningsintyg import steps

        self.steps = steps
        self.case_id = case_id
        self.run_id = str(uuid.uuid4())
        self.version = 0
        steps.case_started(case_id=case_id, flow_run_id=self.run_id)

    def rules(self) -> dict:
        self.version += 1
        return self.steps.rules_apply(
            case_id=self.case_id, version=self.version, flow_run_id=self.run_id
        )

    def resume(self, *, request_id: int, run_input: dict) -> str:
        """What the flow does with the run input a settlement queued."""
        self.steps.settlement_verify(
            request_id=request_id,
            claimed_request_id=run_input["request_id"],
            settlement_id=run_input["settlement_id"],
        )
        return self.steps.settlement_carry_out(
            case_id=self.case_id, settlement_id=run_input["settlement_id"], flow_run_id=self.run_id
        )


@pytest.fixture
def run_case():
    return InProcessRun
