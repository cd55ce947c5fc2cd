"""Create or update the PostgreSQL role the application connects as.

The tables belong to the role that runs migrations (the owner). The owner can do what no
check inside the database can stop: TRUNCATE a table, ALTER it, DISABLE its triggers, or
SET session_replication_role = replica, under which triggers do not fire at all, and so
wipe or rewrite the audit trail. The web app, flow runs and workers therefore connect
as a role that owns nothing and holds only:

- CONNECT on the database, USAGE on the schema (no CREATE);
- SELECT, INSERT, UPDATE, DELETE on the tables (no TRUNCATE, REFERENCES or TRIGGER);
- USAGE on the sequences;
- on append-only tables (those guarded by a refuse-change trigger), the refused
  operations are not granted either: privilege and trigger both say no.

Run it as the owner after every `migrate` (new tables need their grants); it is
idempotent. The role's password is read from an environment variable, never from the
command line (which other users of the machine can see).
"""

import os
import re

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

# Trigger functions that refuse every UPDATE/DELETE they fire on (approvals 0004,
# municipality 0003). A trigger with another function may allow some changes.
REFUSE_CHANGE_FUNCTIONS = ("approvals_refuse_change", "municipality_refuse_change")
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TRIGGER_TYPE_DELETE = 1 << 3
TRIGGER_TYPE_UPDATE = 1 << 4


class Command(BaseCommand):
    help = (
        "Create or update the application's PostgreSQL role: it owns nothing and may only "
        "SELECT/INSERT/UPDATE/DELETE (no TRUNCATE, ALTER or trigger control). Run as the "
        "table owner after migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", default="robotfabrik_app", help="Role name.")
        parser.add_argument(
            "--password-env",
            metavar="VARIABLE",
            help="Environment variable holding the role's password (sets or changes it). "
            "Without it the role's password is left as it is.",
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default)."
        )

    def handle(self, *args, **options):
        role = options["role"]
        if not ROLE_NAME.fullmatch(role):
            raise CommandError(f"{role!r} is not a plain role name (a-z, 0-9, _).")
        password = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"])
            if not password:
                raise CommandError(f"The variable {options['password_env']} is empty or unset.")
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            raise CommandError("Database roles exist only on PostgreSQL.")

        from psycopg import sql

        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            owner, database = cursor.fetchone()
            if owner == role:
                raise CommandError(
                    f"Connected as {role}: run this as the owner of the tables (the role that "
                    "runs migrate), not as the application role."
                )
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
            row = cursor.fetchone()
            if row and row[0]:
                raise CommandError(f"{role} is a superuser; use a role that is not.")
            cursor.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                "WHERE r.rolname = %s",
                [role],
            )
            if cursor.fetchone()[0]:
                raise CommandError(f"{role} owns tables or sequences; it must own nothing.")

            ident = sql.Identifier(role)
            attributes = sql.SQL(
                "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
            )
            verb = sql.SQL("ALTER") if row else sql.SQL("CREATE")
            statement = sql.SQL("{} ROLE {} WITH {}").format(verb, ident, attributes)
            if password is not None:
                statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
            cursor.execute(statement.as_string(cursor.connection))

            schema = sql.Identifier("public")
            owner_ident = sql.Identifier(owner)
            for template in [
                # Start from nothing, so that a grant removed here is removed there.
                "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
                "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
                "REVOKE CREATE ON SCHEMA {schema} FROM {role}",
                "GRANT CONNECT ON DATABASE {database} TO {role}",
                "GRANT USAGE ON SCHEMA {schema} TO {role}",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
                "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
                # Tables a later migration adds are usable before this command runs again;
                # their append-only revocations need the rerun.
                "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
                "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
                "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
                "GRANT USAGE ON SEQUENCES TO {role}",
            ]:
                cursor.execute(
                    sql.SQL(template)
                    .format(
                        schema=schema,
                        role=ident,
                        owner=owner_ident,
                        database=sql.Identifier(database),
                    )
                    .as_string(cursor.connection)
                )

            revoked = self._revoke_append_only(cursor, ident)
        for table, operations in revoked:
            self.stdout.write(f"append-only: {table} without {', '.join(operations)}")
        self.stdout.write(self.style.SUCCESS(f"Role {role} granted on {database}."))

    def _revoke_append_only(self, cursor, ident) -> list[tuple[str, list[str]]]:
        from psycopg import sql

        cursor.execute(
            "SELECT c.relname, t.tgtype FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND n.nspname = 'public' AND p.proname = ANY(%s) "
            "ORDER BY c.relname",
            [list(REFUSE_CHANGE_FUNCTIONS)],
        )
        refused: dict[str, set[str]] = {}
        for table, tgtype in cursor.fetchall():
            if tgtype & TRIGGER_TYPE_UPDATE:
                refused.setdefault(table, set()).add("UPDATE")
            if tgtype & TRIGGER_TYPE_DELETE:
                refused.setdefault(table, set()).add("DELETE")
        result = []
        for table, operations in refused.items():
            ordered = sorted(operations)
            cursor.execute(
                sql.SQL("REVOKE {} ON TABLE {} FROM {}")
                .format(
                    sql.SQL(", ").join(sql.SQL(op) for op in ordered),
                    sql.Identifier(table),
                    ident,
                )
                .as_string(cursor.connection)
            )
            result.append((table, ordered))
        return result
