"""Settings for the Robotfabrik Django project.

One environment-driven module: every deployment (demo, CI, production) sets
variables rather than choosing a settings file.
"""

import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from flows.discovery import process_app_names

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("ROBOTFABRIK_STATE_DIR", BASE_DIR / "state"))


def env_flag(name: str, default: bool) -> bool:
    """A yes/no variable: "1", "true", "yes", "on" are yes; "0", "false", "no", "off", "" no."""
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {value!r}.")


DEBUG = env_flag("DJANGO_DEBUG", False)
# A machine of one person: `make demo` (ROBOTFABRIK_DEMO=1), development with DEBUG, or a
# test run (pytest sets PYTEST_VERSION in its own environment and its children's). Anything
# else is treated as production: no generated secret, HTTPS-only cookies, HSTS, redirects.
LOCAL_RUN = DEBUG or env_flag("ROBOTFABRIK_DEMO", False) or "PYTEST_VERSION" in os.environ


def local_secret_key(state_dir: Path) -> str:
    """A random key made once per state folder (mode 0600) for a local run.

    There is no default key in the code: a key anyone can read in the repository would let
    anyone forge sessions and password-reset tokens. Production must set DJANGO_SECRET_KEY.
    """
    path = state_dir / "secret-key"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it at the same moment; read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not LOCAL_RUN:
        # Refuse to start rather than run production on a guessable key.
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production needs a long random key (see "
            "docs/production.md); for the demo or development set ROBOTFABRIK_DEMO=1 or "
            "DJANGO_DEBUG=1, which use a key generated in the state folder."
        )
    SECRET_KEY = local_secret_key(STATE_DIR)
# Old keys still accepted for sessions and signatures after a rotation (comma-separated).
SECRET_KEY_FALLBACKS = [
    k for k in os.environ.get("DJANGO_SECRET_KEY_FALLBACKS", "").split(",") if k
]
ALLOWED_HOSTS = [
    h
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "municipality",
    "approvals",
    # Every process package (flows/<name>/ with an apps.py) is an app of its own.
    *process_app_names(),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files before everything else: no session, no database for a stylesheet.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Names the logged-in user as the actor of account changes (municipality.account_audit).
    "municipality.account_audit.AccountActorMiddleware",
    # A password someone else set: every page sends its owner to change it first.
    "municipality.password_policy.PasswordMustChangeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every page, Cache-Control: no-store on what is personal.
    "municipality.security.SecurityHeadersMiddleware",
    # A 403/404 answered to a logged-in user is a refused read: logged with who and what.
    "municipality.access_log.RefusedReadLogMiddleware",
]

ROOT_URLCONF = "municipality.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "municipality.wsgi.application"
ASGI_APPLICATION = "municipality.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{STATE_DIR / 'robotfabrik.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
# DATABASE_ROLE: the role the connection acts as (`SET ROLE` at connect) when the login
# user differs from the application's role, e.g. a pooler's login or the test suite, which
# migrates as the owner and then runs as the app role (`manage.py db_grant_app_role`).
DATABASE_ROLE = os.environ.get("DATABASE_ROLE", "")
if DATABASE_ROLE:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_ROLE applies only to PostgreSQL.")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", DATABASE_ROLE):
        raise ImproperlyConfigured("DATABASE_ROLE must be a plain role name (a-z, 0-9, _).")
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c role={DATABASE_ROLE}"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Several processes (web app, flow runs, resume worker) share the demo file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Django's ModelBackend, refusing a username + address after repeated failures.
    "municipality.login_throttle.ThrottledModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: every reader is identified
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (municipality/login_throttle.py): after this many failed logins for one
# username from one address, that pair is refused for LOGIN_LOCKOUT_SECONDS after the last
# failure. Counted in the database cache, so every web worker sees the same count.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", str(15 * 60)))
# Behind a reverse proxy REMOTE_ADDR is the proxy: name the META key the proxy sets
# (e.g. HTTP_X_REAL_IP), and only when every request passes that proxy.
LOGIN_CLIENT_IP_META = os.environ.get("LOGIN_CLIENT_IP_META", "REMOTE_ADDR")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        # Created by municipality/migrations/0007_cache_table.py.
        "LOCATION": "robotfabrik_cache",
    }
}

# Sessions: a working day, and gone when the browser closes (a shared office computer).
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_SECONDS", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_flag("DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_SAMESITE = "Lax"

# HTTPS: on unless this is a local run; a deployment behind a TLS-terminating proxy sets
# DJANGO_SECURE_PROXY_SSL_HEADER=1 so that Django sees the original scheme.
HTTPS = env_flag("DJANGO_HTTPS", not LOCAL_RUN)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
# The health check answers the load balancer on plain HTTP too.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(
    os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600) if HTTPS else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_flag("DJANGO_HSTS_PRELOAD", True)
if env_flag("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

# Content-Security-Policy (municipality/security.py): the pages use only their own
# stylesheet, no script and no inline style; served documents (material HTML) get a
# sandboxed policy of their own. DJANGO_CSP_REPORT_ONLY=1 reports instead of blocking.
CSP_REPORT_ONLY = env_flag("DJANGO_CSP_REPORT_ONLY", False)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "approvals:landing"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", "Svenska"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", STATE_DIR / "static"))
# Production runs `manage.py collectstatic` and serves hashed, compressed files with
# far-future caching (DJANGO_STATIC_MANIFEST=1); the demo and tests serve the source
# folders directly through WhiteNoise's finders, without a collect step.
STATIC_MANIFEST = env_flag("DJANGO_STATIC_MANIFEST", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
if LOCAL_RUN and not STATIC_MANIFEST:
    # WhiteNoise also looks in STATIC_ROOT (empty until a collectstatic) and warns without it.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "robotfabrik@kommun.example")
# Address of the web app, for links in e-mails (reminders, notifications).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Largest accepted API body; larger ones are refused with 413 before parsing.
APPLICATION_MAX_BYTES = int(os.environ.get("APPLICATION_MAX_BYTES", str(256 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = max(APPLICATION_MAX_BYTES * 2, 2621440)

# Back-pressure at intake (approvals.services.intake.intake_saturation, issue 16): a new
# application is refused with 503 and Retry-After, nothing stored, while more than
# INTAKE_BACKLOG_LIMIT cases are still with the robots (received or processing: start not
# yet delivered, or started and not yet waiting for a person), or while its transaction
# waits longer than INTAKE_LOCK_TIMEOUT_MS for a lock. 0 turns either rule off. Repeats of
# an application already accepted are answered 200 regardless.
INTAKE_BACKLOG_LIMIT = int(os.environ.get("INTAKE_BACKLOG_LIMIT", "2000"))
INTAKE_LOCK_TIMEOUT_MS = int(os.environ.get("INTAKE_LOCK_TIMEOUT_MS", "5000"))
INTAKE_RETRY_AFTER_SECONDS = int(os.environ.get("INTAKE_RETRY_AFTER_SECONDS", "30"))

# Prefect: the web app reaches Prefect only through approvals.prefect_gateway; each
# process's deployment and hooks come from its declaration (approvals.registry).
# When false, intake stores the case and leaves the flow start to the outbox worker
# (used by tests that do not run Prefect).
PREFECT_START_ON_COMMIT = os.environ.get("PREFECT_START_ON_COMMIT", "1") == "1"

# The outbox (approvals.prefect_gateway): a command Prefect did not take is tried again
# after 2, 4, 8 ... seconds, at most this long apart.
PREFECT_COMMAND_MAX_BACKOFF_SECONDS = float(
    os.environ.get("PREFECT_COMMAND_MAX_BACKOFF_SECONDS", "300")
)
# The robots' watchdog (approvals.watchdog): a run that shows no sign of life this long
# (no state change, no task, no heartbeat: Prefect's engine sends one every
# PREFECT_FLOWS_HEARTBEAT_FREQUENCY = 180 s) is stuck, and the operators' catalogue shows
# its case red when nothing was recorded on the case for as long (approvals.operations).
# A case restarted n times waits n-1 doublings of the back-off before the next restart;
# after the attempts it goes to the operators. Tests shorten them to seconds.
WATCHDOG_SILENCE_SECONDS = float(os.environ.get("WATCHDOG_SILENCE_SECONDS", "600"))
WATCHDOG_BACKOFF_SECONDS = float(os.environ.get("WATCHDOG_BACKOFF_SECONDS", "60"))
WATCHDOG_MAX_ATTEMPTS = int(os.environ.get("WATCHDOG_MAX_ATTEMPTS", "3"))

# Register connector used by the flows (file-backed synthetic register by default).
REGISTER_CONNECTOR = os.environ.get(
    "REGISTER_CONNECTOR", "flows.connectors.file_register.FileRegister"
)
REGISTER_DATA_DIR = Path(os.environ.get("REGISTER_DATA_DIR", BASE_DIR / "data" / "register"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # Refused reads, login lockouts, refused print resources: kept at INFO in every run.
    "loggers": {
        "robotfabrik": {"level": os.environ.get("ROBOTFABRIK_LOG_LEVEL", "INFO")},
    },
}

# A register that does not answer is asked again this many times, this far apart,
# before the case goes to the caseworker with the gap marked (never a silent zero).
REGISTER_RETRY_ATTEMPTS = int(os.environ.get("REGISTER_RETRY_ATTEMPTS", "3"))
REGISTER_RETRY_DELAY_SECONDS = float(os.environ.get("REGISTER_RETRY_DELAY_SECONDS", "2"))

# Anchors of the audit chain's head, kept outside the database (approvals.anchors): an
# append-only file (on another host or WORM storage in production), each line signed with
# HMAC-SHA256 under AUDIT_ANCHOR_KEY. verify_audit checks the trail against them.
AUDIT_ANCHOR_FILE = Path(os.environ.get("AUDIT_ANCHOR_FILE", STATE_DIR / "audit-anchors.log"))
AUDIT_ANCHOR_KEY = os.environ.get("AUDIT_ANCHOR_KEY", "")

# Signing needs a recent authentication (municipality.authentication): a login (password
# or the identity provider's auth_time), or the same again from the case page, at most
# this many seconds before the signature. Recorded with the signature on the trail.
SIGNING_FRESH_AUTH_SECONDS = int(os.environ.get("SIGNING_FRESH_AUTH_SECONDS", "300"))
if SIGNING_FRESH_AUTH_SECONDS <= 0:
    raise ImproperlyConfigured("SIGNING_FRESH_AUTH_SECONDS must be a positive number of seconds.")

# Login through the municipality's identity provider (OpenID Connect; municipality.oidc,
# mozilla-django-oidc). Off unless OIDC_RP_CLIENT_ID is set. The endpoints come from the
# issuer's discovery document (OIDC_OP_ISSUER) unless set one by one. ID tokens are RS256,
# checked against the provider's JWKS. A login is an existing account's only: the token's
# `sub` must be a Staff's oidc_subject; no account is ever created from a login.
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = "openid"
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
# client_secret_basic, the token endpoint's default authentication in OpenID Connect.
OIDC_TOKEN_USE_BASIC_AUTH = env_flag("OIDC_TOKEN_USE_BASIC_AUTH", True)
OIDC_CREATE_USER = False
OIDC_TIMEOUT = float(os.environ.get("OIDC_TIMEOUT", "10"))
OIDC_REDIRECT_REQUIRE_HTTPS = HTTPS
LOGIN_REDIRECT_URL_FAILURE = "login"
if OIDC_RP_CLIENT_ID:
    if not (
        OIDC_OP_ISSUER
        or (OIDC_OP_AUTHORIZATION_ENDPOINT and OIDC_OP_TOKEN_ENDPOINT and OIDC_OP_JWKS_ENDPOINT)
    ):
        raise ImproperlyConfigured(
            "OIDC_RP_CLIENT_ID is set: set OIDC_OP_ISSUER (or the authorization, token and "
            "JWKS endpoints) and OIDC_RP_CLIENT_SECRET too."
        )
    AUTHENTICATION_BACKENDS.insert(1, "municipality.oidc.StaffOIDCBackend")
