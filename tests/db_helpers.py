"""What only the database's owner can do: switch the triggers off for a statement.

The suite runs as the application's role (`db_grant_app_role`; see `django_db_setup` in
tests/conftest.py), which may not do any of this. Tests use these helpers to act, for one
transaction, as the login role that owns the tables: to set up states the application can no
longer produce (a signed decision changed in place, material edited), or to attack the trail
as a table owner would.
"""

import contextlib

import pytest
from django.db import DatabaseError, IntegrityError, ProgrammingError, connection, transaction


@contextlib.contextmanager
def as_owner():
    """Run the block as the session's login role (the owner), then as the app role again."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE NONE")
        try:
            yield cursor
        finally:
            try:
                cursor.execute("RESET ROLE")
            except DatabaseError:
                pass  # an aborted transaction: its rollback undoes the SET LOCAL anyway


@contextlib.contextmanager
def guards_off():
    """Run the block as the owner with user triggers disabled (session_replication_role)."""
    with as_owner() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def refused_by_database(statement, *, match: str | None = None):
    """The statement is refused twice over: as the app role (no privilege, or the constraint
    or trigger), and as the owner, who holds every privilege, by the constraint or trigger.
    Returns the owner's IntegrityError."""
    with pytest.raises((IntegrityError, ProgrammingError)) as exc, transaction.atomic():
        statement()
    if isinstance(exc.value, ProgrammingError):
        assert "permission denied" in str(exc.value)
    with pytest.raises(IntegrityError, match=match) as exc, transaction.atomic(), as_owner():
        statement()
    return exc.value


def raw_sql(sql: str, params=None):
    """A statement in plain SQL on the test's connection (for `refused_by_database`)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
