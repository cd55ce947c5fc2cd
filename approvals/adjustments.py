"""Line changes at decision time, kept generic: each process brings its own arithmetic.

settings.DECISION_ADJUSTERS maps a process slug to a module with two functions
(like SESSION_ENGINE names a module, not a class):

* ``adjustable_lines(*, calculation) -> list[dict]``: the lines a caseworker may change,
  each with ``code``, ``label`` and ``amount``;
* ``apply_adjustments(*, calculation, adjustments) -> dict``: the calculation with the
  changes applied, its ``proposed_amount`` recomputed, and ``adjustments`` in stored form
  (each with ``code``, ``label``, ``proposed``, ``decided``, ``reason`` and
  ``favours_applicant``). It raises ValueError with a ``code`` attribute to refuse.

The module is imported on first use, never when approvals loads. Only the gate
(approvals.services) decides whether a change fits the outcome and the amount.
"""

from importlib import import_module
from types import ModuleType

from django.conf import settings

ADJUSTMENTS_NOT_SUPPORTED = "ADJUSTMENTS_NOT_SUPPORTED"
ADJUSTMENTS_MALFORMED = "ADJUSTMENTS_MALFORMED"


class AdjustmentRefused(ValueError):
    """Adjustments that cannot be applied; ``code`` names why (the process module's code)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _adjuster_for(process: str) -> ModuleType | None:
    path = getattr(settings, "DECISION_ADJUSTERS", {}).get(process)
    return import_module(path) if path else None


def adjustable_lines(*, process: str, calculation: dict) -> list[dict]:
    """The lines of the proposal a caseworker may change; none for a process without rules."""
    adjuster = _adjuster_for(process)
    if adjuster is None:
        return []
    return adjuster.adjustable_lines(calculation=calculation)


def adjustments_apply(*, process: str, calculation: dict, adjustments: list[dict]) -> dict:
    """The calculation with the changes applied, or AdjustmentRefused."""
    adjuster = _adjuster_for(process)
    # A process that defines no line arithmetic takes no line changes.
    if adjuster is None:
        raise AdjustmentRefused(
            ADJUSTMENTS_NOT_SUPPORTED, f"Process {process!r} takes no line changes."
        )
    if not isinstance(adjustments, list):
        raise AdjustmentRefused(ADJUSTMENTS_MALFORMED, "Adjustments must be a list.")
    try:
        return adjuster.apply_adjustments(calculation=calculation, adjustments=adjustments)
    except ValueError as exc:
        raise AdjustmentRefused(getattr(exc, "code", type(exc).__name__), str(exc)) from exc
