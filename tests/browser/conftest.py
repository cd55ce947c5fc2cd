"""Headless Chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test's thread; Django refuses ORM
calls from a thread with a running loop unless told that is fine, as it is here
(the loop only drives the browser).
"""

import os

import pytest
from playwright.sync_api import sync_playwright

from tests.approvals.inbox_helpers import messages_compiled

from .pages import launch

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _swedish_catalogue_compiled():
    messages_compiled()


# One Playwright and one Chromium per test process, however many modules import these
# fixtures (each import would otherwise start a second sync Playwright in the same thread,
# which Playwright refuses while the first one's event loop runs).
_SHARED: dict = {}


@pytest.fixture(scope="session")
def browser():
    if not _SHARED:
        playwright = sync_playwright().start()
        _SHARED.update(playwright=playwright, browser=launch(playwright), users=0)
    _SHARED["users"] += 1
    yield _SHARED["browser"]
    _SHARED["users"] -= 1
    if _SHARED["users"] == 0:
        _SHARED.pop("browser").close()
        _SHARED.pop("playwright").stop()
        _SHARED.clear()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) per test; Swedish, like the staff's browsers."""
    # bypass_csp: the accessibility checker (axe) is injected as an inline script, which the
    # pages' Content-Security-Policy refuses; test_content_security_policy.py enforces it.
    context = browser.new_context(
        locale="sv-SE", viewport={"width": 1400, "height": 1000}, bypass_csp=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    # Let the live server finish every request (frames included) before the test
    # database is emptied: a request still running then would deadlock the flush.
    page.wait_for_load_state("networkidle")
    context.close()


@pytest.fixture(autouse=True)
def _prefect_is_elsewhere(monkeypatch):
    """No Prefect here: a signed decision's resume stays queued in the outbox, as when
    Prefect is down (the end-to-end tests run a real Prefect server)."""
    from approvals import prefect_gateway

    def unavailable(**kwargs):
        raise prefect_gateway.PrefectUnavailable("no Prefect server in the browser tests")

    monkeypatch.setattr(prefect_gateway, "flow_run_resume", unavailable)
    monkeypatch.setattr(prefect_gateway, "flow_run_start", unavailable)


@pytest.fixture(autouse=True)
def _demo_passwords_under_the_test_hasher(request):
    """The session's demo organisation is built before the tests' fast password hasher is
    set (tests/conftest.py), so the first transactional test could not log in: the demo
    people get their demo password again under the hasher in force."""
    if "org" not in request.fixturenames:
        return
    from django.contrib.auth.models import User

    from municipality.demo import DEMO_PASSWORD

    org = request.getfixturevalue("org")
    for user in User.objects.filter(pk__in=[u.pk for u in org["users"].values()]):
        if user.has_usable_password() and not user.password.startswith("md5$"):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
