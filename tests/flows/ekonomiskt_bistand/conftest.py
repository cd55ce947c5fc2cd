"""The core's shared fixtures for the bistånd-driven versions of the core tests.

The modules moved here from tests/approvals/ (gate, inbox, case page, audit, API,
operations) run the bistånd robot; they use the same `people` fixture and Swedish
catalogue as the core's own tests.
"""

from tests.approvals.conftest import _swedish_catalogue_compiled, people  # noqa: F401
