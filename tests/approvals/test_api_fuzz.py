"""Schemathesis against the served OpenAPI schema: no server error from any operation
(issue 10, point 8). Bounded: a fixed number of generated examples per operation.

Runs in-process through the WSGI app with a real integration token, so the generated
bodies reach the real validation, services and database.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from municipality.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

EXAMPLES_PER_OPERATION = 60


@pytest.fixture
def auth(org, token):
    """A real token; the test's database connection is kept across the WSGI calls, as
    Django's test client keeps it (the app would close it at the end of each request)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {token}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_no_operation_answers_with_a_server_error(case, auth):
    case.call_and_validate(headers=auth, checks=[not_a_server_error])
