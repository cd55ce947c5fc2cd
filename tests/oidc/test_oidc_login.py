"""Login through the identity provider: a real authorization-code flow against
node-oidc-provider (tests/oidc/provider), RS256 ID tokens checked against its JWKS."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import SESSION_KEY as USER_SESSION_KEY
from django.utils import timezone

from approvals.models import AuditEvent
from municipality import oidc
from municipality.authentication import SESSION_KEY, authentication_of

from .conftest import IDP, Browser, link

pytestmark = pytest.mark.django_db


def _logged_in_as(client):
    return client.session.get(USER_SESSION_KEY)


def test_off_without_configuration(client):
    """No client id: no button on the login page, and the OIDC addresses are 404."""
    assert "e-legitimation" not in client.get("/accounts/login/").content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_login_page_offers_the_identity_provider(client, oidc_on):
    html = client.get("/accounts/login/?next=/cases/1/").content.decode()
    assert "Logga in med kommunens e-legitimation" in html
    assert 'href="/oidc/authenticate/?next=/cases/1/"' in html


def test_authorization_code_flow_logs_in_the_linked_account(client, org, oidc_on):
    """anna at the provider is anna here: PKCE, state and nonce sent, the code exchanged
    with the client secret, the ID token verified, auth_time recorded as the login."""
    anna = org["users"]["anna"]
    link(anna, "anna")
    browser = Browser(client)
    page = browser.start("/oidc/authenticate/?next=/search/")
    query = parse_qs(urlparse(browser.last_authorize_url).query)
    assert query["client_id"] == ["robotfabrik-test"] and query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert "prompt" not in query
    assert page.status_code == 200 and "Kommunens e-legitimation" in page.text

    before = timezone.now() - timedelta(seconds=2)
    response = browser.login_at_idp(page, "anna")
    assert response.status_code == 302 and response["Location"] == "/search/"
    assert int(_logged_in_as(client)) == anna.pk
    evidence = authentication_of(client)
    assert evidence.method == "oidc"
    assert before <= evidence.at <= timezone.now()
    assert client.get("/").status_code == 200


def test_unknown_subject_is_refused_with_a_page_and_on_the_trail(client, org, oidc_on):
    """A login at the provider that is no Staff's subject: refused, no account made."""
    from django.contrib.auth.models import User

    users = User.objects.count()
    response = Browser(client).login("okand")
    assert response.status_code == 403
    html = response.content.decode()
    assert "inte kopplad till något konto" in html and 'data-reason="unknown_subject"' in html
    assert _logged_in_as(client) is None and User.objects.count() == users
    event = AuditEvent.objects.get(kind=oidc.LOGIN_REFUSED)
    assert event.data["reason"] == "unknown_subject"
    assert event.data["issuer"] == oidc_on["issuer"]
    assert IDP["okand"]["sub"] not in str(event.data)  # hashed


def test_a_subject_linked_to_an_integration_account_is_refused(client, org, oidc_on):
    link(org["users"]["etjanst"], "maria")
    response = Browser(client).login("maria")
    assert response.status_code == 403 and _logged_in_as(client) is None


def test_a_wrong_state_is_refused_not_a_server_error(client, org, oidc_on, caplog):
    link(org["users"]["anna"], "anna")
    browser = Browser(client)
    page = browser.start()
    session = client.session
    session["oidc_states"] = {"another-state": session["oidc_states"].popitem()[1]}
    session.save()
    response = browser.login_at_idp(page, "anna")
    assert response.status_code == 400
    assert 'data-reason="invalid"' in response.content.decode()
    assert _logged_in_as(client) is None
    assert "state not found in session" in caplog.text


def test_a_wrong_nonce_is_refused(client, org, oidc_on, caplog):
    """The ID token's nonce must be the one this session sent (a token for another login)."""
    link(org["users"]["anna"], "anna")
    browser = Browser(client)
    page = browser.start()
    session = client.session
    for entry in session["oidc_states"].values():
        entry["nonce"] = "not-the-nonce-that-was-sent"
    session.save()
    response = browser.login_at_idp(page, "anna")
    assert response.status_code == 400 and _logged_in_as(client) is None
    assert "Nonce verification failed" in caplog.text


def test_a_replayed_callback_is_refused(client, org, oidc_on):
    """The same code and state twice: the second is refused (state used up), no 500."""
    link(org["users"]["anna"], "anna")
    browser = Browser(client)
    callback = browser.login_at_idp(browser.start(), "anna", deliver=False)
    assert callback.startswith("/oidc/callback/?code=")
    assert client.get(callback).status_code == 302
    client.logout()
    again = client.get(callback)
    assert again.status_code in (400, 403) and _logged_in_as(client) is None


def test_an_error_from_the_provider_is_a_refusal_page(client, oidc_on):
    response = client.get("/oidc/callback/?error=access_denied&state=x")
    assert response.status_code == 403 and 'data-reason="failed"' in response.content.decode()


def test_a_provider_that_does_not_answer_is_a_clear_page(client, settings, oidc_on):
    from municipality.runtime import free_port

    settings.OIDC_OP_ISSUER = f"http://127.0.0.1:{free_port()}"
    settings.OIDC_TIMEOUT = 2
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 502 and 'data-reason="unavailable"' in response.content.decode()


def test_session_without_auth_time_record_is_not_fresh(client, org):
    """force_login (no login page, no provider) leaves no authentication record."""
    client.force_login(org["users"]["anna"])
    assert SESSION_KEY not in client.session


def test_the_link_command_links_refuses_and_unlinks(client, org, oidc_on):
    """staff_oidc_link: anna can then log in at the provider; a subject used twice, or an
    integration account, is refused; --clear ends the link (and the next login is refused)."""
    from django.core.management import CommandError, call_command

    call_command("staff_oidc_link", "anna", IDP["anna"]["sub"], stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert AuditEvent.objects.filter(kind="auth.oidc_linked").count() == 1
    with pytest.raises(CommandError, match="already linked"):
        call_command("staff_oidc_link", "erik", IDP["anna"]["sub"])
    with pytest.raises(CommandError, match="no human staff"):
        call_command("staff_oidc_link", "etjanst", IDP["maria"]["sub"])
    assert Browser(client).login("anna").status_code == 302
    assert int(_logged_in_as(client)) == org["users"]["anna"].pk
    call_command("staff_oidc_link", "anna", "--clear", stdout=open("/dev/null", "w"))  # noqa: SIM115
    client.logout()
    assert Browser(client).login("anna").status_code == 403
