"""The shared browser fixtures (tests/browser/conftest.py), for the certificate pages,
with this package's Swedish catalogue compiled too (its own locale folder)."""

from pathlib import Path

import pytest

from tests.browser.conftest import (  # noqa: F401
    _prefect_is_elsewhere,
    _swedish_catalogue_compiled,
    browser,
    page,
)

PO = (
    Path(__file__).resolve().parents[4]
    / "flows"
    / "anstallningsintyg"
    / "locale"
    / "sv"
    / "LC_MESSAGES"
    / "django.po"
)


@pytest.fixture(scope="session", autouse=True)
def _certificate_catalogue_compiled():
    """Compile the package's .po when its .mo is missing or older (the .mo is not committed)."""
    mo = PO.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= PO.stat().st_mtime:
        return
    import gettext

    from django.core.management import call_command
    from django.utils.translation import trans_real

    call_command("compilemessages", locale=["sv"], verbosity=0, ignore_patterns=[".venv", "state"])
    gettext._translations.clear()
    trans_real._translations = {}
    trans_real._default = None
