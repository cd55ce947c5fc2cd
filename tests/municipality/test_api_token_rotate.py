"""Rotating an integration account's API token (docs/production.md)."""

import io

import pytest
from django.core.management import CommandError, call_command

from municipality.demo import DEMO_INTEGRATION_TOKEN


def rotate(*args) -> str:
    out = io.StringIO()
    call_command("api_token_rotate", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_new_token_works_and_old_one_is_refused_after_revocation(api_post, application, org):
    """The new token is accepted at once; after --revoke-except only the new one works."""
    new = rotate("etjanst", "--name", "2027-01")
    assert new.startswith("rf_") and new != DEMO_INTEGRATION_TOKEN
    assert api_post("/api/v1/applications/", application, auth=new).status_code == 201
    assert api_post("/api/v1/applications/", application).status_code == 200
    assert "Revoked 1 token(s)" in rotate("etjanst", "--revoke-except", "2027-01")
    assert api_post("/api/v1/applications/", application).status_code == 401
    assert api_post("/api/v1/applications/", application, auth=new).status_code == 200


@pytest.mark.django_db
def test_tokens_only_for_integration_accounts(org):
    """A caseworker never gets a token; revoking without the kept token revokes nothing."""
    with pytest.raises(CommandError, match="not an integration account"):
        rotate("anna", "--name", "x")
    with pytest.raises(CommandError, match="nothing revoked"):
        rotate("etjanst", "--revoke-except", "missing")
