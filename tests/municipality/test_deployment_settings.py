"""Deployment settings a security officer signs off (issue 10, point 10)."""

import logging
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from municipality.login_throttle import LOGIN_THROTTLED
from municipality.models import Staff, Unit, unit_group_name
from municipality.security import DOCUMENT_POLICY, PAGE_POLICY

ROOT = django_settings.BASE_DIR
PASSWORD = "Lång-och-slumpad-2026"

# Variables that mark a local run; a production process has none of them.
LOCAL_MARKERS = ("PYTEST_VERSION", "ROBOTFABRIK_DEMO", "DJANGO_DEBUG", "DJANGO_HTTPS")


def production_env(**extra: str) -> dict[str, str]:
    # Not the test process's own switches either (the browser tests allow Django's ORM
    # inside Playwright's event loop through DJANGO_ALLOW_ASYNC_UNSAFE).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in LOCAL_MARKERS and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "robotfabrik.kommun.example",
            "DJANGO_SECURE_PROXY_SSL_HEADER": "1",
            "DJANGO_STATIC_MANIFEST": "1",
            "DATABASE_URL": "postgres://robotfabrik_app@127.0.0.1:5432/robotfabrik",
        }
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_environment():
    """`manage.py check --deploy --fail-level WARNING` reports no issue at all (W004 HSTS,
    W008 SSL redirect, W009 key, W012/W016 secure cookies, W018 DEBUG ...) with the
    production variables of docs/production.md."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_a_secret_key_refuses_to_start():
    """Without DJANGO_SECRET_KEY and without a demo/development switch nothing starts:
    there is no public default key to fall back on."""
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in result.stderr


def test_demo_switch_uses_a_generated_key_kept_in_the_state_folder(tmp_path):
    """ROBOTFABRIK_DEMO=1 without a key starts with a random key made once in the state
    folder (mode 0600), the same on the next start; the old public default is gone."""
    env = production_env(ROBOTFABRIK_DEMO="1", ROBOTFABRIK_STATE_DIR=str(tmp_path))
    del env["DJANGO_SECRET_KEY"]
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = manage("shell", "--no-imports", "-c", code, env=env)
    second = manage("shell", "--no-imports", "-c", code, env=env)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert key == second.stdout.strip() == (tmp_path / "secret-key").read_text().strip()
    assert len(key) >= 50 and "demo-only" not in key
    assert (tmp_path / "secret-key").stat().st_mode & 0o777 == 0o600


def test_production_settings_turn_https_protections_on():
    """In production the session and CSRF cookies are Secure, HTTP redirects to HTTPS
    (except the health check) and HSTS is sent for a year."""
    code = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_AGE, s.SESSION_EXPIRE_AT_BROWSER_CLOSE)"
    )
    result = manage("shell", "--no-imports", "-c", code, env=production_env())
    assert result.stdout.split() == ["True", "True", "True", "31536000", "28800", "True"]


# --- passwords ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("weak", ["password", "demo-2026!", "123456789012345", "kajsa.lind.1991"])
def test_weak_passwords_are_refused(weak):
    """Common, short (< 12), all-digit and username-like passwords are refused."""
    user = User(username="kajsa.lind", first_name="Kajsa", last_name="Lind")
    with pytest.raises(ValidationError):
        validate_password(weak, user=user)


@pytest.mark.django_db
def test_a_long_unusual_password_is_accepted():
    """A long passphrase unrelated to the account passes every validator."""
    validate_password("korp-lykta-fjord-93", user=User(username="kajsa"))


# --- login throttling -----------------------------------------------------------------


@pytest.fixture
def kajsa(db):
    return User.objects.create_user("kajsa", password=PASSWORD)


def login(client, username, password, *, ip="10.0.0.7", path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_is_locked_after_five_failures_even_with_the_right_password(client, kajsa):
    """After LOGIN_FAILURE_LIMIT (5) wrong passwords for one username from one address,
    the right password is refused too, with a message that says why."""
    for _ in range(5):
        assert login(client, "kajsa", "fel-lösenord").status_code == 200
    response = login(client, "kajsa", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    errors = response.context["form"].non_field_errors().as_data()
    assert [e.code for e in errors] == [LOGIN_THROTTLED]
    assert "Too many failed logins" in response.content.decode() or "minut" in (
        response.content.decode()
    )


def test_the_lock_is_per_username_and_address(client, kajsa):
    """The same username from another address, and another username from the locked
    address, can still log in."""
    User.objects.create_user("lisa", password=PASSWORD)
    for _ in range(5):
        login(client, "kajsa", "fel-lösenord")
    assert login(client, "kajsa", PASSWORD, ip="10.0.0.8").status_code == 302
    client.logout()
    assert login(client, "lisa", PASSWORD).status_code == 302


def test_the_admin_login_counts_in_the_same_throttle(client, kajsa):
    """Failures on /admin/login/ lock the staff login too (one count per pair)."""
    kajsa.is_staff = True
    kajsa.save()
    for _ in range(5):
        login(client, "kajsa", "fel-lösenord", path="/admin/login/")
    response = login(client, "kajsa", PASSWORD)
    assert "_auth_user_id" not in client.session
    assert response.context["form"].throttled


def test_lock_ends_after_the_lockout_period(client, kajsa, settings):
    """The lock lasts LOGIN_LOCKOUT_SECONDS after the last failure, then the right
    password works again."""
    from django.core.cache import cache

    for _ in range(5):
        login(client, "kajsa", "fel-lösenord")
    assert "_auth_user_id" not in (login(client, "kajsa", PASSWORD) and client.session)
    cache.clear()  # what the expiry of the cache entry does after LOGIN_LOCKOUT_SECONDS
    assert login(client, "kajsa", PASSWORD).status_code == 302


def test_success_clears_the_count(client, kajsa):
    """Four failures, a success, then four more failures do not lock the account."""
    for _ in range(4):
        login(client, "kajsa", "fel")
    assert login(client, "kajsa", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        login(client, "kajsa", "fel")
    assert login(client, "kajsa", PASSWORD).status_code == 302


# --- sessions, headers ----------------------------------------------------------------


def test_session_lasts_a_working_day_and_ends_with_the_browser(client, kajsa):
    """The session cookie has no expiry date (gone when the browser closes) and the
    server forgets the session after 8 hours at most."""
    response = login(client, "kajsa", PASSWORD)
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    assert client.session.get_expiry_age() == 8 * 3600
    assert cookie["httponly"]


@pytest.fixture
def caseworker(open_request):
    return open_request.case.unit.staff.get(user__username="anna").user


def test_every_page_has_a_strict_content_security_policy(client, caseworker, open_request):
    """Login page, inbox and case page are sent with the strict policy, and none of them
    carries an inline script or style the policy would block."""
    pages = [reverse("login")]
    client.get(pages[0])
    client.force_login(caseworker)
    pages += [reverse("approvals:inbox"), reverse("approvals:case", args=[open_request.case_id])]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response["Content-Security-Policy"] == PAGE_POLICY
        html = response.content.decode()
        # Scripts only as files of the site (the policy's 'self'), never inline.
        inline_scripts = re.findall(r"<script(?![^>]*\bsrc=\"/static/)[^>]*>", html)
        assert not inline_scripts and "<style" not in html and " style=" not in html, page
    assert "script-src 'self'" in PAGE_POLICY and "'unsafe-inline'" not in PAGE_POLICY


def test_served_material_gets_a_sandboxed_document_policy(client, caseworker, open_request):
    """The material HTML (inline <style> of the print template) is sent with a sandboxed
    policy without script, framed only by this site."""
    client.force_login(caseworker)
    response = client.get(reverse("approvals:material", args=[open_request.material_id]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == DOCUMENT_POLICY
    assert "sandbox" in DOCUMENT_POLICY and "script-src" not in DOCUMENT_POLICY


def test_personal_pages_and_pdfs_are_not_stored_by_caches(client, caseworker, open_request):
    """Inbox, case page, material and its PDF: Cache-Control: no-store."""
    client.force_login(caseworker)
    for url in [
        reverse("approvals:inbox"),
        reverse("approvals:case", args=[open_request.case_id]),
        reverse("approvals:material", args=[open_request.material_id]),
        reverse("approvals:material_pdf", args=[open_request.material_id]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url


def test_api_responses_to_token_holders_are_not_stored(api_post, application, org):
    """An API answer to a token holder (it names a case) is sent with no-store."""
    response = api_post("/api/v1/applications/", application)
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"


# --- refused reads --------------------------------------------------------------------


@pytest.fixture
def outsider(org):
    """A caseworker of another unit, without any grant on the demo unit's cases."""
    other = Unit.objects.create(code="other", name="Other unit", committee="Socialnämnden")
    group = Group.objects.create(name=unit_group_name(other))
    user = User.objects.create_user("olle")
    Staff.objects.create(user=user, unit=other, role=Staff.Role.CASEWORKER)
    user.groups.add(group)
    return user


def test_forbidden_and_missing_look_the_same(client, outsider, open_request):
    """Another unit's case, material and PDF answer exactly like an id that does not exist."""
    client.force_login(outsider)
    for name, real in [
        ("approvals:case", open_request.case_id),
        ("approvals:material", open_request.material_id),
        ("approvals:material_pdf", open_request.material_id),
    ]:
        forbidden = client.get(reverse(name, args=[real]))
        missing = client.get(reverse(name, args=[real + 10_000]))
        assert forbidden.status_code == missing.status_code == 404, name
        assert forbidden.content == missing.content, name


def test_refused_reads_are_logged_with_who_and_what(client, outsider, open_request, caplog):
    """A refused read is logged (user id, view, object id, address), never silently."""
    client.force_login(outsider)
    with caplog.at_level(logging.INFO, logger="robotfabrik.access"):
        client.get(reverse("approvals:case", args=[open_request.case_id]))
    [record] = [r for r in caplog.records if r.name == "robotfabrik.access"]
    message = record.getMessage()
    assert "read_refused" in message and f"who=user:{outsider.pk}" in message
    assert "what=approvals:case" in message and f"id={open_request.case_id}" in message


# --- health ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_health_check_says_ok_and_nothing_else(client):
    """/healthz answers 200 with the database status only, without a login."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
