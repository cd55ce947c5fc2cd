"""Signing needs a recent authentication (SIGNING_FRESH_AUTH_SECONDS), given to the gate
as evidence and recorded with the signature: in the service, on the case page with the
password again, and through the real identity provider with prompt=login."""

from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command
from django.utils import timezone

from approvals import rules, services
from approvals.audit import Kind
from approvals.models import AuditEvent, Decision
from municipality.authentication import REAUTHENTICATED, authentication_of
from municipality.models import SecondSignerRule
from tests.gate_helpers import fresh_authentication, login_fresh, material_open, sign

from .conftest import Browser, link

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pdf")]


def _refused_code(request, user, **kwargs) -> str:
    with pytest.raises(services.GateRefused) as refused:
        sign(request, user, **kwargs)
    return refused.value.code


# --- the service -------------------------------------------------------------------------


def test_no_evidence_signs_nothing(core_request, core_org):
    kim = core_org["users"]["kim"]
    material_open(kim, core_request)
    assert (
        _refused_code(core_request, kim, authentication=None) == rules.DECISION_AUTHENTICATION_STALE
    )
    assert not Decision.objects.exists()


def test_the_window_is_the_setting(core_request, core_org, settings):
    """60 s window: a login 61 s ago is refused, one from the future too; 50 s ago signs."""
    settings.SIGNING_FRESH_AUTH_SECONDS = 60
    kim = core_org["users"]["kim"]
    material_open(kim, core_request)
    now = timezone.now()
    for at in (now - timedelta(seconds=61), now + timedelta(seconds=120)):
        code = _refused_code(core_request, kim, authentication=fresh_authentication(at=at))
        assert code == rules.DECISION_AUTHENTICATION_STALE
    unknown = rules.Authentication(method="sms", at=now)
    assert (
        _refused_code(core_request, kim, authentication=unknown)
        == rules.DECISION_AUTHENTICATION_STALE
    )
    decision = sign(
        core_request, kim, authentication=fresh_authentication(at=now - timedelta(seconds=50))
    )
    assert decision.signer == kim


def test_the_evidence_is_on_the_trail_and_the_trail_verifies(core_request, core_org):
    kim = core_org["users"]["kim"]
    material_open(kim, core_request)
    at = timezone.now() - timedelta(seconds=30)
    decision = sign(core_request, kim, authentication=fresh_authentication(rules.AUTH_OIDC, at=at))
    event = AuditEvent.objects.get(kind=Kind.DECISION_SIGNED, data__decision=decision.pk)
    evidence = event.data["authentication"]
    assert evidence["method"] == "oidc" and evidence["at"] == at.isoformat()
    assert 30 <= evidence["seconds_before_signing"] <= 40
    call_command("verify_audit", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_the_second_signature_needs_a_fresh_login_too(core_request, core_org):
    SecondSignerRule.objects.create(
        unit=core_request.unit,
        decision_type=core_request.decision_type,
        valid_from=date(2026, 1, 1),
    )
    kim, lo = core_org["users"]["kim"], core_org["users"]["lo"]
    material_open(kim, core_request)
    sign(core_request, kim)
    material_open(lo, core_request)
    stale = fresh_authentication(at=timezone.now() - timedelta(hours=1))
    assert (
        _refused_code(core_request, lo, authentication=stale) == rules.DECISION_AUTHENTICATION_STALE
    )
    decision = sign(core_request, lo)
    assert decision.cosignature.signer == lo
    event = AuditEvent.objects.get(kind=Kind.DECISION_COSIGNED)
    assert event.data["authentication"]["method"] == "password"


# --- the case page -----------------------------------------------------------------------


def _decide(client, request):
    return client.post(
        f"/requests/{request.pk}/decide/",
        {"material_sha256": request.material.sha256, "outcome": "approved", "motivation": ""},
    )


def _case_page(client, request) -> str:
    response = client.get(f"/cases/{request.case_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_force_login_alone_may_read_but_not_sign(client, core_request, core_org):
    """A session without an authentication record (Django's force_login): the page offers
    the password again, and a signature posted anyway is refused (409) and logged."""
    client.force_login(core_org["users"]["kim"])
    html = _case_page(client, core_request)
    assert 'data-testid="reauth" data-method="password"' in html
    assert "Bekräfta vem du är innan du undertecknar" in html
    assert client.get(f"/material/{core_request.material_id}/").status_code == 200
    response = _decide(client, core_request)
    assert response.status_code == 409
    assert "kräver en nyss gjord inloggning" in response.content.decode()
    assert not Decision.objects.exists()
    refused = AuditEvent.objects.get(kind=Kind.DECISION_REFUSED)
    assert refused.data["code"] == rules.DECISION_AUTHENTICATION_STALE


def test_the_real_password_login_counts_as_fresh(client, core_request, core_org):
    response = client.post("/accounts/login/", {"username": "kim", "password": "x"})
    assert response.status_code == 302
    assert authentication_of(client).method == "password"
    assert 'data-testid="reauth"' not in _case_page(client, core_request)
    assert client.get(f"/material/{core_request.material_id}/").status_code == 200
    assert _decide(client, core_request).status_code == 302
    event = AuditEvent.objects.get(kind=Kind.DECISION_SIGNED)
    assert event.data["authentication"]["method"] == "password"
    assert 0 <= event.data["authentication"]["seconds_before_signing"] < 60


def test_stale_then_the_password_again_then_signed(client, core_request, core_org):
    kim = core_org["users"]["kim"]
    login_fresh(client, kim, at=timezone.now() - timedelta(hours=1))
    case_url = f"/cases/{core_request.case_id}/"
    assert 'data-method="password"' in _case_page(client, core_request)
    assert client.get(f"/material/{core_request.material_id}/").status_code == 200
    assert _decide(client, core_request).status_code == 409

    wrong = client.post("/accounts/reauthenticate/", {"password": "nej", "next": case_url})
    assert wrong.status_code == 302 and wrong["Location"] == case_url
    assert "Lösenordet stämde inte" in client.get(case_url).content.decode()
    assert _decide(client, core_request).status_code == 409
    assert not AuditEvent.objects.filter(kind=REAUTHENTICATED).exists()

    right = client.post("/accounts/reauthenticate/", {"password": "x", "next": case_url})
    assert right.status_code == 302 and right["Location"] == case_url
    assert 'data-testid="reauth"' not in _case_page(client, core_request)
    assert _decide(client, core_request).status_code == 302
    assert Decision.objects.get().signer == kim
    renewed = AuditEvent.objects.get(kind=REAUTHENTICATED)
    assert renewed.actor == kim and renewed.data["method"] == "password"
    signed = AuditEvent.objects.get(kind=Kind.DECISION_SIGNED)
    assert signed.data["authentication"]["at"] == renewed.data["at"]


def test_reauthenticate_never_redirects_off_site(client, core_org):
    login_fresh(client, core_org["users"]["kim"])
    response = client.post(
        "/accounts/reauthenticate/", {"password": "x", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/start/"


# --- through the identity provider --------------------------------------------------------


def test_oidc_relogin_with_prompt_login_renews_the_authentication(
    client, core_request, core_org, oidc_on
):
    """kim logs in at the provider; an hour later (the record made old) the case page
    offers a new login there; the app asks prompt=login&max_age=0, the provider shows its
    login form again although its session is alive, the new auth_time is recorded, and
    the signature carries it."""
    kim = core_org["users"]["kim"]
    link(kim, "anna")
    case_url = f"/cases/{core_request.case_id}/"
    browser = Browser(client)
    assert (
        browser.login("anna", path=f"/oidc/authenticate/?next={case_url}")["Location"] == case_url
    )
    first = authentication_of(client)
    assert first.method == "oidc"
    # Without prompt=login the provider answers from its session at once (single sign-on):
    # no form, and the auth_time of the first login again.
    again = browser.start("/oidc/authenticate/")
    assert again.status_code == 302 and authentication_of(client).at == first.at

    session = client.session
    old = timezone.now() - timedelta(hours=1)
    session["robotfabrik_authentication"] = {"method": "oidc", "at": old.isoformat()}
    session.save()
    html = _case_page(client, core_request)
    assert 'data-method="oidc"' in html
    link_href = f"/oidc/authenticate/?reauth=1&amp;next={case_url}"
    assert link_href in html
    assert client.get(f"/material/{core_request.material_id}/").status_code == 200
    assert _decide(client, core_request).status_code == 409

    page = browser.start(link_href.replace("&amp;", "&"))
    query = parse_qs(urlparse(browser.last_authorize_url).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    assert page.status_code == 200 and "<form" in page.text  # asked again, no silent SSO
    back = browser.login_at_idp(page, "anna")
    assert back.status_code == 302 and back["Location"] == case_url
    renewed = authentication_of(client)
    assert renewed.method == "oidc" and renewed.at > old
    assert (timezone.now() - renewed.at).total_seconds() < 60
    assert AuditEvent.objects.get(kind=REAUTHENTICATED).data["method"] == "oidc"

    assert _decide(client, core_request).status_code == 302
    signed = AuditEvent.objects.get(kind=Kind.DECISION_SIGNED)
    assert signed.actor == kim and signed.data["authentication"]["method"] == "oidc"
    assert signed.data["authentication"]["at"] == renewed.at.isoformat()


def test_a_relogin_answered_from_an_older_login_renews_nothing(
    client, core_request, core_org, oidc_on
):
    """The callback checks that the provider's auth_time is no older than the re-login it
    asked for: an answer from an earlier login (here: the re-login's start moved an hour
    ahead, as if the provider had ignored prompt=login) leaves the session stale."""
    from municipality.oidc import REAUTH_SESSION_KEY

    kim = core_org["users"]["kim"]
    link(kim, "anna")
    browser = Browser(client)
    browser.login("anna")
    session = client.session
    old = timezone.now() - timedelta(hours=1)
    session["robotfabrik_authentication"] = {"method": "oidc", "at": old.isoformat()}
    session.save()
    page = browser.start(f"/oidc/authenticate/?reauth=1&next=/cases/{core_request.case_id}/")
    session = client.session
    session[REAUTH_SESSION_KEY] = {"started": (timezone.now() + timedelta(hours=1)).isoformat()}
    session.save()
    back = browser.login_at_idp(page, "anna")
    assert back.status_code == 302
    assert authentication_of(client).at == old
    assert not AuditEvent.objects.filter(kind=REAUTHENTICATED).exists()
    assert "bad inte om din inloggning igen" in client.get(back["Location"]).content.decode()
