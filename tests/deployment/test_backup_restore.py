"""Backup and restore of the Django database with pg_dump / pg_restore (issue 10, point 11):
the procedure of docs/production.md, run against the test database."""

import secrets
import shutil
import subprocess

import psycopg
import pytest
from django.db import connection

from approvals.audit import audit_append, audit_verify

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("pg_restore") is None, reason="postgresql-client missing"),
]


def pg_args() -> list[str]:
    db = connection.settings_dict
    args = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432)]
    return args + ["-U", db["USER"] or "postgres"]


def run(*cmd: str) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def restored_name():
    name = f"rf_restore_{secrets.token_hex(4)}"
    yield name
    subprocess.run(["dropdb", *pg_args(), "--if-exists", name], capture_output=True, timeout=60)


def query(dbname: str, sql: str):
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        dbname=dbname,
    ) as conn:
        return conn.execute(sql).fetchall()


def test_dump_and_restore_keeps_rows_chain_and_guards(org, tmp_path, restored_name):
    """A custom-format pg_dump restored into a new database has the same organisation, the
    same audit trail (same head hash, chain verifies) and the append-only triggers."""
    for n in range(3):
        audit_append(kind="backup_test", actor_label="test", data={"n": n})
    assert audit_verify() is None
    source = connection.settings_dict["NAME"]
    dump = tmp_path / "robotfabrik.dump"

    run("pg_dump", *pg_args(), "--format=custom", "--file", str(dump), source)
    run("createdb", *pg_args(), restored_name)
    run("pg_restore", *pg_args(), "--exit-on-error", "--dbname", restored_name, str(dump))

    for table in ["auth_user", "municipality_staff", "municipality_delegation"]:
        assert query(restored_name, f"SELECT count(*) FROM {table}") == query(
            source, f"SELECT count(*) FROM {table}"
        ), table
    head = "SELECT last_seq, last_hash FROM approvals_auditchainhead"
    events = "SELECT seq, hash, prev_hash FROM approvals_auditevent ORDER BY seq"
    assert query(restored_name, head) == query(source, head)
    assert query(restored_name, events) == query(source, events)
    # The organisation's own account events come first; the three of this test are there.
    mine = "SELECT count(*) FROM approvals_auditevent WHERE kind = 'backup_test'"
    assert query(restored_name, mine) == [(3,)]
    triggers = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname"
    assert query(restored_name, triggers) == query(source, triggers)
    assert ("approvals_auditevent_append_only",) in query(restored_name, triggers)
