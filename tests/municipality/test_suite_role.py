"""The suite itself runs as an application role, as production does (issue 10, point 5):
the tables were migrated by the owner, and every test and every process a test starts
acts as a role made by `db_grant_app_role`, which cannot TRUNCATE, ALTER, control
triggers or switch to replica mode."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.db import ProgrammingError, connection, transaction

from municipality import runtime

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="database roles are PostgreSQL's",
    ),
]


def current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


def test_tests_act_as_an_app_role_that_owns_nothing():
    role = current_user()
    assert role.startswith("rf_app_")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
            [role],
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        assert cursor.fetchone()[0] is False


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE approvals_auditevent",
        "ALTER TABLE approvals_auditevent DISABLE TRIGGER USER",
        "SET session_replication_role = replica",
        "DROP TABLE approvals_auditchainhead",
    ],
)
def test_what_only_the_owner_could_do_is_refused_to_the_tests(statement):
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def test_processes_started_by_tests_act_as_the_same_role():
    """Flow runners, workers and the web app get the role with the database URL."""
    env = runtime.database_env()
    assert env["DATABASE_ROLE"] == current_user()
    code = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('SELECT current_user'); print(c.fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=runtime.child_env({**env, "DJANGO_SETTINGS_MODULE": "municipality.settings"}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == current_user()


def test_a_bad_role_name_is_refused_at_start():
    env = {**runtime.database_env(), "DATABASE_ROLE": "x; DROP TABLE y"}
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=runtime.child_env({**env, "DJANGO_SETTINGS_MODULE": "municipality.settings"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "plain role name" in out.stderr
