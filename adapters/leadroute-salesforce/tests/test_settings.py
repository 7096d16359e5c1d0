"""The adapters.salesforce table: checked option by option; secrets only from the environment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadroute.errors import AuthError, PolicyError
from leadroute_salesforce.auth import ClientCredentialsGrant, JwtBearerGrant
from leadroute_salesforce.settings import load_settings
from leadroute_salesforce.testing import sf_id

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def load(options, env, tmp_path):
    return load_settings(options, workdir=tmp_path, env=env, now=NOW)


def test_defaults(jwt_env, tmp_path):
    """JWT against login.salesforce.com, API 67.0, batch 2000, tasks off, report in the workdir."""
    settings = load({}, jwt_env, tmp_path)
    assert isinstance(settings.grant, JwtBearerGrant)
    assert settings.grant.token_url == "https://login.salesforce.com/services/oauth2/token"
    assert settings.api_version == "67.0"
    assert settings.query_batch_size == 2000
    assert not settings.tasks.enabled
    assert settings.output_dir == tmp_path


@pytest.mark.parametrize("key", ["private_key", "private_key_file", "client_secret", "password"])
def test_secrets_in_the_policy_are_refused(jwt_env, tmp_path, key):
    """A secret written into the policy is refused, pointing at the environment variable."""
    with pytest.raises(
        PolicyError, match=rf"adapters\.salesforce\.{key}: secrets never go in the policy"
    ):
        load({key: "value"}, jwt_env, tmp_path)


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"colour": "blue"}, "adapters.salesforce.colour"),
        ({"auth": "password"}, "adapters.salesforce.auth"),
        ({"api_version": "v67"}, "adapters.salesforce.api_version"),
        ({"query_batch_size": 50}, "adapters.salesforce.query_batch_size"),
        ({"route_queues": ["005000000000001AAA"]}, "adapters.salesforce.route_queues[0]"),
        ({"unowned_owners": ["not-an-id"]}, "adapters.salesforce.unowned_owners[0]"),
        ({"contacts": True}, "adapters.salesforce.contacts"),
        ({"created_since": "last tuesday"}, "adapters.salesforce.created_since"),
        ({"limits": {"reserve": 0.9}}, "adapters.salesforce.limits.reserve"),
        ({"tasks": {"priority": {"demo": "Urgent"}}}, "adapters.salesforce.tasks.priority"),
        ({"tasks": {"subject": ""}}, "adapters.salesforce.tasks.subject"),
        (
            {"tasks": {"external_id_field": "Key; DROP"}},
            "adapters.salesforce.tasks.external_id_field",
        ),
        ({"fields": {"leads": {"id": "Name"}}}, "adapters.salesforce.fields.leads.id"),
        (
            {"fields": {"users": {"shoe_size": "Shoe__c"}}},
            "adapters.salesforce.fields.users.shoe_size",
        ),
        ({"fields": {"opportunities": {}}}, "adapters.salesforce.fields.opportunities"),
        ({"login_url": "http://acme.my.salesforce.com"}, "adapters.salesforce.login_url"),
        ({"audience": "login.salesforce.com"}, "adapters.salesforce.audience"),
        ({"audience": "http://test.salesforce.com"}, "adapters.salesforce.audience"),
    ],
)
def test_bad_options_name_their_path(jwt_env, tmp_path, options, path):
    """Each bad option fails with a one-line message that starts with its policy path."""
    with pytest.raises(PolicyError) as info:
        load(options, jwt_env, tmp_path)
    assert str(info.value).startswith(path + ":")


def test_client_credentials_need_my_domain_and_the_secret(tmp_path):
    """Client credentials refuse login.salesforce.com and read the secret from the environment."""
    env = {"LEADROUTE_SALESFORCE_CLIENT_ID": "3MVG9x"}
    with pytest.raises(PolicyError, match="My Domain"):
        load(
            {"auth": "client_credentials", "login_url": "https://login.salesforce.com"},
            env,
            tmp_path,
        )
    options = {"auth": "client_credentials", "login_url": "https://acme.my.salesforce.com"}
    with pytest.raises(AuthError, match="LEADROUTE_SALESFORCE_CLIENT_SECRET"):
        load(options, env, tmp_path)
    grant = load(options, {**env, "LEADROUTE_SALESFORCE_CLIENT_SECRET": "s3"}, tmp_path).grant
    assert isinstance(grant, ClientCredentialsGrant)
    assert grant.token_url == "https://acme.my.salesforce.com/services/oauth2/token"
    assert "s3" not in repr(grant)


def test_client_credentials_have_no_audience(tmp_path):
    """An audience with client credentials is a mistake: refused, naming the option."""
    env = {"LEADROUTE_SALESFORCE_CLIENT_ID": "3MVG9x", "LEADROUTE_SALESFORCE_CLIENT_SECRET": "s"}
    options = {
        "auth": "client_credentials",
        "login_url": "https://acme.my.salesforce.com",
        "audience": "https://login.salesforce.com",
    }
    with pytest.raises(PolicyError, match=r"^adapters\.salesforce\.audience: only the JWT"):
        load(options, env, tmp_path)


def test_missing_credentials_name_the_variables(tmp_path):
    """Each missing piece of the JWT flow is named by its environment variable."""
    with pytest.raises(AuthError, match="LEADROUTE_SALESFORCE_CLIENT_ID"):
        load({}, {}, tmp_path)
    with pytest.raises(AuthError, match="LEADROUTE_SALESFORCE_USERNAME"):
        load({}, {"LEADROUTE_SALESFORCE_CLIENT_ID": "x"}, tmp_path)
    with pytest.raises(AuthError, match="LEADROUTE_SALESFORCE_PRIVATE_KEY_FILE"):
        load({"username": "u@x"}, {"LEADROUTE_SALESFORCE_CLIENT_ID": "x"}, tmp_path)


def test_private_key_from_a_file(jwt_env, key_pair, tmp_path):
    """The key may come from a file named by LEADROUTE_SALESFORCE_PRIVATE_KEY_FILE."""
    path = tmp_path / "key.pem"
    path.write_text(key_pair[0], encoding="utf-8")
    env = {k: v for k, v in jwt_env.items() if k != "LEADROUTE_SALESFORCE_PRIVATE_KEY"}
    env["LEADROUTE_SALESFORCE_PRIVATE_KEY_FILE"] = str(path)
    grant = load({}, env, tmp_path).grant
    assert isinstance(grant, JwtBearerGrant) and grant.private_key == key_pair[0]
    assert key_pair[0] not in repr(grant)


def test_unreadable_key_file_does_not_echo_its_path(jwt_env, tmp_path):
    """The path of a secret is configuration of a secret: the error names the variable only."""
    env = {k: v for k, v in jwt_env.items() if k != "LEADROUTE_SALESFORCE_PRIVATE_KEY"}
    env["LEADROUTE_SALESFORCE_PRIVATE_KEY_FILE"] = str(tmp_path / "canary-91ab" / "key.pem")
    with pytest.raises(AuthError) as info:
        load({}, env, tmp_path)
    assert "LEADROUTE_SALESFORCE_PRIVATE_KEY_FILE" in str(info.value)
    assert "canary-91ab" not in str(info.value)


def test_environment_wins_over_the_policy(jwt_env, tmp_path):
    """Non-secret values may be in the policy; the environment overrides them per deployment."""
    settings = load({"client_id": "from-policy", "username": "p@x"}, jwt_env, tmp_path)
    assert isinstance(settings.grant, JwtBearerGrant)
    assert settings.grant.client_id == jwt_env["LEADROUTE_SALESFORCE_CLIENT_ID"]


def test_created_since_takes_a_time_or_a_duration(jwt_env, tmp_path):
    """created_since is an ISO time or a look-back duration from now."""
    assert load({"created_since": "30d"}, jwt_env, tmp_path).created_since == NOW - timedelta(
        days=30
    )
    assert load({"created_since": "2026-10-01T00:00:00Z"}, jwt_env, tmp_path).created_since == (
        datetime(2026, 10, 1, tzinfo=UTC)
    )


def test_ids_and_tasks_options(jwt_env, tmp_path):
    """Queue and owner ids are kept; task options are read with their defaults."""
    settings = load(
        {
            "route_queues": [sf_id("00G", 1)],
            "unowned_owners": [sf_id("005", 9)],
            "contacts": True,
            "tasks": {"priority": {"Demo": "High"}, "due_in_days": 3},
        },
        jwt_env,
        tmp_path,
    )
    assert settings.route_queues == (sf_id("00G", 1),)
    assert settings.tasks.enabled and settings.tasks.due_in_days == 3
    assert settings.tasks.priority_for("demo") == "High"
    assert settings.tasks.priority_for("other") == "Normal"
    assert "contacts" in settings.fields.objects
