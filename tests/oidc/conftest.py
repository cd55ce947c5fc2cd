"""A real OpenID Connect provider for the tests (tests/oidc/provider: node-oidc-provider).

One provider per test session and xdist worker, on a free port, with the static client
the Django app is configured with; the tests drive its login page over real HTTP with
`requests` and hand its redirect back to Django's test client (http://testserver).
"""

import re
import shutil
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from municipality import runtime

PROVIDER_DIR = Path(__file__).parent / "provider"
CLIENT_ID = "robotfabrik-test"
CLIENT_SECRET = "robotfabrik-test-secret-0123456789abcdef"
CALLBACK = "http://testserver/oidc/callback/"
# The provider's synthetic accounts (tests/oidc/provider/server.mjs).
IDP = {
    "anna": {"password": "idp-anna-2026", "sub": "kommun-7f3a-anna"},
    "maria": {"password": "idp-maria-2026", "sub": "kommun-22c1-maria"},
    "okand": {"password": "idp-okand-2026", "sub": "kommun-9999-okand"},
}


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """node tests/oidc/provider/server.mjs on a free port, until the session ends."""
    if shutil.which("node") is None:
        pytest.fail("node is needed for the OIDC provider of the tests")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("run `npm ci --prefix tests/oidc/provider` first (make test does)")
    port = runtime.free_port()
    log = tmp_path_factory.mktemp("oidc-provider") / "provider.log"
    issuer = f"http://127.0.0.1:{port}"
    proc = runtime.start(
        [
            "node",
            str(PROVIDER_DIR / "server.mjs"),
            "--port",
            str(port),
            "--redirect-uri",
            CALLBACK,
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ],
        env=runtime.child_env({}),
        log=log,
    )
    try:
        runtime.wait_for_http(f"{issuer}/.well-known/openid-configuration", proc=proc, timeout=30)
        yield {"issuer": issuer, "log": log, "proc": proc}
    finally:
        runtime.stop(proc)


@pytest.fixture
def oidc_on(settings, oidc_provider):
    """The Django app configured for the test provider (issuer discovery, RS256, PKCE)."""
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_ISSUER = oidc_provider["issuer"]
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS[:1],
        "municipality.oidc.StaffOIDCBackend",
        *settings.AUTHENTICATION_BACKENDS[1:],
    ]
    return oidc_provider


def link(user, login: str) -> None:
    """Link a Staff account to a synthetic account of the provider (its subject)."""
    user.staff.oidc_subject = IDP[login]["sub"]
    user.staff.save(update_fields=["oidc_subject"])


class Browser:
    """Django's test client for the app, a requests session for the provider: together
    one browser, each keeping its own cookies."""

    def __init__(self, client):
        self.client = client
        self.idp = requests.Session()
        self.last_authorize_url = ""

    def start(self, path: str = "/oidc/authenticate/"):
        """Begin a login at the app: the provider's page it sent us to (or, when the
        provider asks nothing, the app's answer to its redirect back)."""
        response = self.client.get(path)
        assert response.status_code == 302, response.status_code
        self.last_authorize_url = response["Location"]
        return self.back_to_app(
            self.idp.get(self.last_authorize_url, allow_redirects=False, timeout=10)
        )

    def login_at_idp(self, page, login: str, password: str | None = None, *, deliver=True):
        """Fill the provider's login form; follow the provider until it sends us back."""
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert action, page.text[:500]
        response = self.idp.post(
            urljoin(page.url, action.group(1)),
            data={"login": login, "password": password or IDP[login]["password"]},
            allow_redirects=False,
            timeout=10,
        )
        return self.back_to_app(response, deliver=deliver)

    def back_to_app(self, response, *, deliver=True):
        """Follow the provider's redirects; the one to the app goes to the test client
        (or, with deliver=False, is returned as the app's path and query)."""
        for _ in range(10):
            if response.status_code not in (301, 302, 303):
                return response  # a page of the provider (e.g. a wrong password)
            location = urljoin(response.url, response.headers["location"])
            if location.startswith("http://testserver/"):
                path = location.removeprefix("http://testserver")
                return self.client.get(path) if deliver else path
            response = self.idp.get(location, allow_redirects=False, timeout=10)
        raise AssertionError("too many redirects at the provider")

    def login(self, login: str, path: str = "/oidc/authenticate/"):
        """The whole authorization-code flow: app → provider's form → app's callback."""
        return self.login_at_idp(self.start(path), login)
