"""Line changes at decision time, kept generic: each process brings its own arithmetic.

A process that lets the signer change single lines of its proposal defines two hooks
in its hooks module (approvals.registry):

* ``adjustable_lines(*, proposal) -> list[dict]``: the lines a signer may change,
  each with ``code``, ``label`` and ``amount``;
* ``apply_adjustments(*, proposal, adjustments) -> dict``: ``{"proposal", "authority_amount",
  "adjustments"}``: the proposal with the changes applied, the amount that follows, and
  the changes in stored form (each with ``code``, ``label``, ``proposed``, ``decided``,
  ``reason`` and ``favours_applicant``). It raises ValueError with a ``code`` to refuse.

Only the gate (approvals.services.signing) decides whether a change fits the outcome
and the amount.
"""

from .registry import registry

ADJUSTMENTS_NOT_SUPPORTED = "ADJUSTMENTS_NOT_SUPPORTED"
ADJUSTMENTS_MALFORMED = "ADJUSTMENTS_MALFORMED"


class AdjustmentRefused(ValueError):
    """Adjustments that cannot be applied; ``code`` names why (the process module's code)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _hook(process: str, name: str):
    spec = registry.get(process)
    return spec.hook(name) if spec else None


def adjustable_lines(*, process: str, proposal: dict) -> list[dict]:
    """The lines of the proposal a signer may change; none for a process without rules."""
    hook = _hook(process, "adjustable_lines")
    return hook(proposal=proposal) if hook else []


def adjustments_apply(*, process: str, proposal: dict, adjustments: list[dict]) -> dict:
    """The proposal with the changes applied, or AdjustmentRefused."""
    hook = _hook(process, "apply_adjustments")
    # A process that defines no line arithmetic takes no line changes.
    if hook is None:
        raise AdjustmentRefused(
            ADJUSTMENTS_NOT_SUPPORTED, f"Process {process!r} takes no line changes."
        )
    if not isinstance(adjustments, list):
        raise AdjustmentRefused(ADJUSTMENTS_MALFORMED, "Adjustments must be a list.")
    try:
        return hook(proposal=proposal, adjustments=adjustments)
    except ValueError as exc:
        raise AdjustmentRefused(getattr(exc, "code", type(exc).__name__), str(exc)) from exc
