"""The application's PostgreSQL role cannot wipe or rewrite the trail (issue 10, point 5).

Roles are shared by the whole PostgreSQL server, so each test run makes its own role name
and drops it afterwards.
"""

import secrets

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from approvals.audit import audit_append

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("owner_session")]


@pytest.fixture
def app_role(monkeypatch):
    """A role made by `manage.py db_grant_app_role` on the test database, and a connection
    as that role; the role is removed afterwards."""
    role = f"rf_app_test_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    monkeypatch.setenv("RF_TEST_APP_DB_PASSWORD", password)
    call_command("db_grant_app_role", role=role, password_env="RF_TEST_APP_DB_PASSWORD")
    db = connection.settings_dict
    app = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=role,
        password=password,
        autocommit=True,
    )
    try:
        yield role, app
    finally:
        app.close()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def event(db):
    return audit_append(kind="test_event", actor_label="test", data={"n": 1})


def refused(app, statement: str) -> bool:
    """Whether PostgreSQL refuses the statement for lack of a privilege or by a trigger."""
    try:
        app.execute(statement)
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.RestrictViolation):
        return True
    return False


def test_app_role_can_read_and_write_rows(app_role, event):
    """The role reads the trail, and inserts and changes ordinary rows."""
    _, app = app_role
    # The trail so far: the fixture's event and any before it (e.g. the demo's accounts).
    assert app.execute("SELECT count(*) FROM approvals_auditevent").fetchone()[0] == event.seq
    app.execute(
        "INSERT INTO municipality_unit (code, name, committee, municipality, address, phone, "
        "email, committee_address) VALUES ('x', 'X', 'Nämnd', '', '', '', '', '')"
    )
    app.execute("UPDATE municipality_unit SET name = 'Y' WHERE code = 'x'")
    app.execute("DELETE FROM municipality_unit WHERE code = 'x'")
    app.execute(
        "INSERT INTO approvals_auditevent (seq, kind, actor_label, data, created_at, "
        "prev_hash, case_prev_hash, hash) VALUES (%s, 'x', 'x', '{}', now(), '', '', 'h')",
        [event.seq + 1],
    )


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE approvals_auditevent",
        "TRUNCATE approvals_auditchainhead",
        "ALTER TABLE approvals_auditevent ADD COLUMN forged text",
        "ALTER TABLE approvals_auditevent DISABLE TRIGGER ALL",
        "ALTER TABLE approvals_auditevent DISABLE TRIGGER approvals_auditevent_append_only",
        "SET session_replication_role = replica",
        "DROP TABLE approvals_auditevent",
        "CREATE TABLE forged (id int)",
        "UPDATE approvals_auditevent SET kind = 'forged'",
        "DELETE FROM approvals_auditevent",
        "DELETE FROM approvals_decision",
        "CREATE TRIGGER t BEFORE INSERT ON approvals_auditevent FOR EACH ROW "
        "EXECUTE FUNCTION approvals_refuse_change()",
    ],
)
def test_app_role_cannot_wipe_or_rewrite_the_trail(app_role, event, statement):
    """TRUNCATE, ALTER, trigger control, replica mode, DDL and changes to append-only rows
    are all refused for the application's role; the event is unchanged afterwards."""
    _, app = app_role
    assert refused(app, statement), statement
    with connection.cursor() as cursor:
        cursor.execute("SELECT kind FROM approvals_auditevent WHERE seq = %s", [event.seq])
        assert cursor.fetchone() == ("test_event",)


def test_append_only_tables_lack_the_privilege_too(app_role):
    """Besides the trigger, the role holds no UPDATE/DELETE on the audit trail and no
    TRUNCATE, TRIGGER or REFERENCES anywhere."""
    role, _ = app_role
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = %s",
            [role],
        )
        grants = set(cursor.fetchall())
    assert ("approvals_auditevent", "SELECT") in grants
    assert ("approvals_auditevent", "INSERT") in grants
    assert ("approvals_auditevent", "UPDATE") not in grants
    assert ("approvals_auditevent", "DELETE") not in grants
    assert ("approvals_decision", "DELETE") not in grants
    assert ("approvals_decision", "UPDATE") in grants
    assert not {p for _t, p in grants} & {"TRUNCATE", "TRIGGER", "REFERENCES"}


def test_command_refuses_a_bad_role_name_and_an_empty_password(monkeypatch):
    """A role name that is not a plain identifier, or an unset password variable, is a
    CommandError, and no role is made."""
    with pytest.raises(CommandError, match="plain role name"):
        call_command("db_grant_app_role", role='x"; DROP TABLE approvals_auditevent; --')
    monkeypatch.delenv("RF_UNSET_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="empty or unset"):
        call_command("db_grant_app_role", role="rf_never_made", password_env="RF_UNSET_PASSWORD")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rf_never_made'")
        assert cursor.fetchone() is None


def test_command_refuses_to_grant_to_the_owner():
    """Run as the owner for the owner's own name, the command refuses (the app role must
    not be the role that owns the tables)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="owner"):
        call_command("db_grant_app_role", role=owner)
