"""Settings for the Robotfabrik Django project.

One environment-driven module: every deployment (demo, CI, production) sets
variables rather than choosing a settings file.
"""

import os
from pathlib import Path

import dj_database_url

from flows.discovery import process_app_names

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("ROBOTFABRIK_STATE_DIR", BASE_DIR / "state"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-secret-key-change-me-in-production")
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
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
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: every reader is identified
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "approvals:inbox"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", "Svenska"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = STATE_DIR / "static"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "robotfabrik@kommun.example")
# Address of the web app, for links in e-mails (reminders, notifications).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Largest accepted API body; larger ones are refused with 413 before parsing.
APPLICATION_MAX_BYTES = int(os.environ.get("APPLICATION_MAX_BYTES", str(256 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = max(APPLICATION_MAX_BYTES * 2, 2621440)

# Prefect: the web app reaches Prefect only through approvals.prefect_gateway; each
# process's deployment and hooks come from its declaration (approvals.registry).
# When false, intake stores the case and leaves the flow start to the outbox worker
# (used by tests that do not run Prefect).
PREFECT_START_ON_COMMIT = os.environ.get("PREFECT_START_ON_COMMIT", "1") == "1"

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
}

# A register that does not answer is asked again this many times, this far apart,
# before the case goes to the caseworker with the gap marked (never a silent zero).
REGISTER_RETRY_ATTEMPTS = int(os.environ.get("REGISTER_RETRY_ATTEMPTS", "3"))
REGISTER_RETRY_DELAY_SECONDS = float(os.environ.get("REGISTER_RETRY_DELAY_SECONDS", "2"))
