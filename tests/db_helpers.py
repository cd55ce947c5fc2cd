"""What only the database's owner can do: switch the triggers off for a statement.

Tests use it to set up states that the application can no longer produce (a signed
decision changed in place, material edited), or to attack the trail as a table owner.
"""

import contextlib

from django.db import connection


@contextlib.contextmanager
def guards_off():
    """Run the block with user triggers disabled (session_replication_role = replica)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
