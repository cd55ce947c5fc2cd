"""The shared browser fixtures (tests/browser/conftest.py), for the certificate pages."""

from tests.browser.conftest import (  # noqa: F401
    _prefect_is_elsewhere,
    _swedish_catalogue_compiled,
    browser,
    page,
)
