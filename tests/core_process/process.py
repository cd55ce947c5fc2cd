"""The declaration of the test-only process, with variants per decision mode."""

import dataclasses
from pathlib import Path

from approvals.registry import (
    APPROVED,
    RETURNED,
    DecisionMode,
    DecisionType,
    Outcome,
    ProcessSpec,
    Templates,
    Trigger,
)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
SLUG = "core-test"
UNIT = "core-unit"
DECISION_TYPE = "core-test.beslut"

SPEC = ProcessSpec(
    slug=SLUG,
    name="Testprocess",
    unit_code=UNIT,
    public_authority=True,
    decision_mode=DecisionMode.HUMAN,
    decision_types=(
        DecisionType(
            code=DECISION_TYPE,
            label="Testbeslut",
            has_amount=True,
            outcomes=(
                Outcome(APPROVED, "Bifall", grants_amount=True),
                Outcome("refused", "Avslag", against_party=True),
                Outcome(RETURNED, "Återsänd"),
            ),
        ),
    ),
    triggers=(Trigger.API,),
    flow="tests.core_process.flow:core_test",
    templates=Templates(
        material="core-test/material.html",
        document="core-test/document.html",
        inbox_summary="core-test/inbox_summary.html",
        case_panel="core-test/case_panel.html",
    ),
    due_working_days=2,
    minutes_saved_per_case=7,
    application_schema="tests.core_process.schemas:TestApplication",
    hooks="tests.core_process.hooks",
)


def core_spec(**changes) -> ProcessSpec:
    """The test process, with fields changed (e.g. decision_mode="automatic")."""
    return dataclasses.replace(SPEC, **changes)
