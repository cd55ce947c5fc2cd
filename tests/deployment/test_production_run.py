"""The production run: the Procfile's web process (gunicorn, two workers) serving the app
and its static files from the test database (issue 10, point 11)."""

import http.cookiejar
import json
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User

from municipality import runtime

ROOT = Path(settings.BASE_DIR)
PASSWORD = "Lång-och-slumpad-2026"
LOCAL_MARKERS = ("PYTEST_VERSION", "ROBOTFABRIK_DEMO", "DJANGO_DEBUG")


def production_env(tmp_path: Path, port: int) -> dict[str, str]:
    """The variables of docs/production.md, over plain HTTP on a local port (the TLS proxy
    in front is not part of the test), against the pytest-django test database."""
    env = {k: v for k, v in os.environ.items() if k not in LOCAL_MARKERS}
    env.update(runtime.database_env())
    env.update(
        {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_HTTPS": "0",
            "DJANGO_STATIC_MANIFEST": "1",
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            "ROBOTFABRIK_STATE_DIR": str(tmp_path / "state"),
            "WEB_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@pytest.fixture
def web(transactional_db, tmp_path):
    """`manage.py collectstatic`, then `honcho start web` from the Procfile."""
    port = runtime.free_port()
    env = production_env(tmp_path, port)
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collect.returncode == 0, collect.stderr
    log = tmp_path / "honcho.log"
    proc = runtime.start(
        [sys.executable, "-m", "honcho", "-f", "Procfile", "-e", "/dev/null", "start", "web"],
        env=env,
        log=log,
    )
    try:
        runtime.wait_for_http(f"http://127.0.0.1:{port}/healthz", proc=proc, timeout=60)
        yield f"http://127.0.0.1:{port}", log
    finally:
        runtime.stop(proc)


def test_gunicorn_serves_login_static_files_and_a_logged_in_page(web, org):
    """Through gunicorn with two workers: the health check, the login page, its hashed and
    compressed stylesheet (WhiteNoise, cached for a year), and a login with a user
    committed to the database, ending on the inbox."""
    base, log = web
    # `org` (transactional_db) is committed: the gunicorn workers see it.
    # The hash the production hasher reads (the test process itself uses a fast one).
    User.objects.filter(username="anna").update(
        password=PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    )

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    with opener.open(f"{base}/healthz") as response:
        assert json.load(response) == {"status": "ok", "database": "ok"}

    with opener.open(f"{base}/accounts/login/") as response:
        assert response.status == 200
        html = response.read().decode()
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', html)
    assert stylesheet, "the login page links the collected, hashed stylesheet"
    request = urllib.request.Request(base + stylesheet[1], headers={"Accept-Encoding": "gzip"})
    with opener.open(request) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/css")
        assert response.headers["Content-Encoding"] == "gzip"
        assert "max-age=315360000" in response.headers["Cache-Control"]

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    form = urllib.parse.urlencode(
        {"username": "anna", "password": PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    login = urllib.request.Request(
        f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(login) as response:
        assert response.status == 200
        assert urllib.parse.urlsplit(response.url).path == "/"
        assert response.headers["Cache-Control"] == "no-store"
        assert "Content-Security-Policy" in response.headers

    booted = re.findall(r"Booting worker with pid", log.read_text())
    assert len(booted) >= 2, log.read_text()[-2000:]


def test_procfile_names_every_production_process():
    """The Procfile starts the web app, the Prefect server, the flow runner, the outbox
    worker and the reminders, and honcho accepts it."""
    names = [
        line.split(":", 1)[0]
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert names == ["web", "prefect", "flows", "outbox", "reminders"]
    check = subprocess.run(
        [sys.executable, "-m", "honcho", "-f", "Procfile", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr
