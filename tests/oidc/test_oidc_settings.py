"""The identity provider and the signing window are configured from the environment."""

import pytest

from tests.municipality.test_deployment_settings import manage, production_env

SHOW = "from django.conf import settings as s; print(s.AUTHENTICATION_BACKENDS, s.SIGNING_FRESH_AUTH_SECONDS)"


def test_off_unless_a_client_id_is_set():
    done = manage("shell", "-c", SHOW, env=production_env())
    assert done.returncode == 0, done.stderr
    assert "StaffOIDCBackend" not in done.stdout and "300" in done.stdout


def test_on_with_client_id_and_issuer():
    env = production_env(
        OIDC_RP_CLIENT_ID="robotfabrik",
        OIDC_RP_CLIENT_SECRET="s",
        OIDC_OP_ISSUER="https://idp.kommun.example",
        SIGNING_FRESH_AUTH_SECONDS="120",
    )
    done = manage("shell", "-c", SHOW, env=env)
    assert done.returncode == 0, done.stderr
    assert "municipality.oidc.StaffOIDCBackend" in done.stdout and "120" in done.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"OIDC_RP_CLIENT_ID": "robotfabrik"}, "set OIDC_OP_ISSUER"),
        ({"SIGNING_FRESH_AUTH_SECONDS": "0"}, "SIGNING_FRESH_AUTH_SECONDS must be"),
    ],
)
def test_incomplete_configuration_does_not_start(extra, message):
    done = manage("check", env=production_env(**extra))
    assert done.returncode != 0 and message in done.stderr
