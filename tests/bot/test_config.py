"""Start-up configuration: what an operator sets, what the bot refuses, and what it says."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.config import ConfigError, Settings
from bot.delivery import Pace
from tests.support.bot_process import REPO_ROOT, BotProcess

APP = {"MicrosoftAppId": "0b5e4a47-64b6-4bde-9a28-4f2f0c2d9e11", "MicrosoftAppPassword": "pw"}


def test_local_mode_runs_unauthenticated_on_the_embedded_store() -> None:
    settings = Settings.from_env({"LOCAL_MODE": "1"})
    assert (settings.port, settings.redis_url, settings.authenticated) == (3978, None, False)


def test_a_full_registration_is_accepted() -> None:
    settings = Settings.from_env(
        {
            **APP,
            "MicrosoftAppType": "singletenant",
            "MicrosoftAppTenantId": "5a1b7c3e-0f2d-4c6b-9e8a-1d2c3b4a5f60",
            "REDIS_URL": "rediss://cache.example:6380/0",
            "PORT": "8080",
        }
    )
    assert settings.authenticated and settings.app_type == "SingleTenant"
    assert settings.port == 8080


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "MicrosoftAppId is not set. To run on your own machine"),
        ({**APP, "LOCAL_MODE": "1", "REDIS_URL": "redis://r"}, "unset one of them"),
        ({"MicrosoftAppId": "x", "REDIS_URL": "redis://r"}, "MicrosoftAppPassword is required"),
        ({**APP, "MicrosoftAppType": "SingleTenant", "REDIS_URL": "redis://r"}, "TenantId is"),
        ({**APP, "MicrosoftAppType": "Personal", "REDIS_URL": "redis://r"}, "must be MultiTenant"),
        *(
            (
                {
                    **APP,
                    "MicrosoftAppType": "SingleTenant",
                    "MicrosoftAppTenantId": shared,
                    "REDIS_URL": "redis://r",
                },
                "must be the app registration's own tenant",
            )
            for shared in ("common", "Organizations", "botframework.com")
        ),
        (APP, "REDIS_URL is required with MicrosoftAppId"),
        ({"LOCAL_MODE": "1", "REDIS_URL": "localhost:6379"}, "must start with redis://"),
        ({"LOCAL_MODE": "1", "PORT": "http"}, "PORT must be a number from 1 to 65535"),
        # str.isdigit() accepts these; int() refuses the first and reads the second.
        ({"LOCAL_MODE": "1", "PORT": "³⁹⁷⁸"}, "PORT must be a number from 1 to 65535"),
        ({"LOCAL_MODE": "1", "PORT": "٣٩٧٨"}, "PORT must be a number from 1 to 65535"),
        ({"LOCAL_MODE": "1", "CARD_ACTIONS": "both"}, "CARD_ACTIONS must be execute or submit"),
    ],
)
def test_unsafe_or_inconsistent_settings_are_refused(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env)
    assert says in str(refused.value)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis://cache-a:6379,cache-b:6379/0", "names more than one host"),
        ("redis://cache.example:6379/0?colour=blue", "does not know: 'colour'"),
        ("redis://cache.example:6379/0?socket_timeout=soon", "value for 'socket_timeout'"),
        ("redis://cache.example:99999/0", "port that is not a number from 1 to 65535"),
        ("redis://cache.example:0/0", "port that is not a number from 1 to 65535"),
        ("redis://cache.example:six/0", "port that is not a number from 1 to 65535"),
        ("redis://cache.example/zero", "must end with a database number"),
        ("redis://cache.example/²", "must end with a database number"),
        ("REDIS://cache.example/0", "must start with redis://"),
        ("http://cache.example:6379", "must start with redis://"),
        ("unix://", "must name the socket's path"),
    ],
)
def test_a_malformed_redis_url_is_listed_among_the_problems(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"LOCAL_MODE": "1", "REDIS_URL": url, "PORT": "0"})
    lines = str(refused.value).splitlines()
    assert lines[0] == "Cannot start trustboard:"
    assert any(line.startswith("- REDIS_URL ") and says in line for line in lines), lines
    assert any("PORT must be" in line for line in lines)  # with the others, all at once


@pytest.mark.parametrize(
    "url",
    [
        "redis://localhost:6379/0",
        "redis://localhost",
        "rediss://:pw@cache.example:6380/1?ssl_cert_reqs=none&health_check_interval=5",
        "redis://[::1]:6379/0",
        "unix:///run/redis/redis.sock?db=2",
    ],
)
def test_well_formed_redis_urls_are_accepted(url: str) -> None:
    assert Settings.from_env({"LOCAL_MODE": "1", "REDIS_URL": url}).redis_url == url


def test_redis_cluster_is_off_unless_set_and_on_with_one_node_named() -> None:
    assert not Settings.from_env({"LOCAL_MODE": "1", "REDIS_URL": "redis://r:6379"}).redis_cluster
    for on in ("1", "true", "YES"):
        env = {
            "LOCAL_MODE": "1",
            "REDIS_URL": "rediss://:pw@node-3.cache:6380/0",
            "REDIS_CLUSTER": on,
        }
        assert Settings.from_env(env).redis_cluster
    assert Settings.from_env({**env, "REDIS_URL": "redis://node-1"}).redis_cluster


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"REDIS_CLUSTER": "1"}, "REDIS_CLUSTER=1 needs REDIS_URL naming one node"),
        ({"REDIS_CLUSTER": "on", "REDIS_URL": "redis://r"}, "REDIS_CLUSTER must be 1 (on) or 0"),
        (
            {"REDIS_CLUSTER": "1", "REDIS_URL": "unix:///run/redis.sock"},
            "a Redis Cluster is reached over TCP",
        ),
        ({"REDIS_CLUSTER": "1", "REDIS_URL": "redis://r:6379/2"}, "has only database 0"),
        ({"REDIS_CLUSTER": "1", "REDIS_URL": "redis://r:6379?db=3"}, "has only database 0"),
        (
            {"REDIS_CLUSTER": "1", "REDIS_URL": "redis://node-1:6379,node-2:6379/0"},
            "any one of its nodes and REDIS_CLUSTER=1",
        ),
    ],
)
def test_a_cluster_setting_that_cannot_work_is_refused(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"LOCAL_MODE": "1", **env})
    assert says in str(refused.value)


def test_redis_wait_replicas_is_a_count_that_needs_a_real_redis() -> None:
    env = {"LOCAL_MODE": "1", "REDIS_URL": "redis://r:6379"}
    assert Settings.from_env(env).redis_wait_replicas == 0
    assert Settings.from_env({**env, "REDIS_WAIT_REPLICAS": "1"}).redis_wait_replicas == 1
    for wrong, says in (
        ("-1", "REDIS_WAIT_REPLICAS must be a whole number, 0 or more"),
        ("one", "REDIS_WAIT_REPLICAS must be a whole number, 0 or more"),
    ):
        with pytest.raises(ConfigError, match=says):
            Settings.from_env({**env, "REDIS_WAIT_REPLICAS": wrong})
    with pytest.raises(ConfigError, match="REDIS_WAIT_REPLICAS needs REDIS_URL"):
        Settings.from_env({"LOCAL_MODE": "1", "REDIS_WAIT_REPLICAS": "1"})


def test_redis_max_connections_is_a_count_of_one_or_more() -> None:
    env = {"LOCAL_MODE": "1", "REDIS_URL": "redis://r:6379"}
    assert Settings.from_env(env).redis_max_connections == 64
    assert Settings.from_env({**env, "REDIS_MAX_CONNECTIONS": "128"}).redis_max_connections == 128
    for wrong in ("0", "-3", "many"):
        with pytest.raises(ConfigError, match="REDIS_MAX_CONNECTIONS must be a whole number, 1 or"):
            Settings.from_env({**env, "REDIS_MAX_CONNECTIONS": wrong})


def test_a_malformed_redis_url_stops_the_bot_with_the_list_and_no_traceback() -> None:
    env = BotProcess({"REDIS_URL": "redis://:hunter2-secret@cache-a:6379,cache-b:6379/0"})
    run = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=REPO_ROOT,
        env=env.environment(),
        capture_output=True,
        timeout=60,
    )
    stderr = run.stderr.decode()
    assert run.returncode == 2
    assert "Cannot start trustboard:\n- REDIS_URL names more than one host" in stderr
    assert "Traceback" not in stderr
    assert "hunter2-secret" not in stderr + run.stdout.decode()


def test_without_an_app_id_or_local_mode_the_bot_will_not_start() -> None:
    env = BotProcess({"LOCAL_MODE": None, "MicrosoftAppId": None}).environment()
    run = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=REPO_ROOT, env=env, capture_output=True, timeout=60
    )
    assert run.returncode == 2
    assert "Cannot start trustboard" in run.stderr.decode()
    assert "set LOCAL_MODE=1" in run.stderr.decode()


async def test_local_mode_says_so_at_start_up() -> None:
    with BotProcess({"REDIS_URL": None}) as process:
        status, body = await process.get("/healthz")
        logs = process.logs()
    assert (status, body["status"], body["store"], body["store_state"]) == (
        200,
        "ok",
        "embedded",
        "ok",
    )
    assert "Bot Framework authentication is OFF" in logs
    assert "answers are lost when the bot stops" in logs


# -- delivery and rounds -----------------------------------------------------------------------


def test_delivery_and_round_defaults() -> None:
    settings = Settings.from_env({"LOCAL_MODE": "1"})
    assert settings.delivery_workers == 1
    # Teams' 50 requests a second per tenant, counted over 1.06 s for the drift of arrivals.
    assert (settings.delivery_per_tenant, settings.delivery_per_conversation) == (50, 7)
    assert settings.round_reminder_hours == 48
    assert settings.round_timezone == "Europe/London"
    assert settings.pace() == Pace(per_tenant=50, per_conversation=7, window=1.06)


def test_delivery_and_round_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            "LOCAL_MODE": "1",
            "DELIVERY_WORKERS": "0",
            "DELIVERY_PER_TENANT": " 12 ",
            "DELIVERY_PER_CONVERSATION": "3",
            "DELIVERY_WINDOW_MS": "2000",
            "ROUND_REMINDER_HOURS": "1.5",
            "ROUND_TIMEZONE": "America/New_York",
        }
    )
    assert settings.delivery_workers == 0  # a web-only process
    assert settings.pace() == Pace(per_tenant=12, per_conversation=3, window=2.0)
    assert settings.round_reminder_hours == 1.5
    assert settings.round_timezone == "America/New_York"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DELIVERY_WORKERS": "-1"}, "DELIVERY_WORKERS must be a whole number, 0 or more"),
        ({"DELIVERY_WORKERS": "two"}, "DELIVERY_WORKERS must be a whole number, 0 or more"),
        ({"DELIVERY_PER_TENANT": "0"}, "DELIVERY_PER_TENANT must be a whole number, 1 or more"),
        ({"DELIVERY_PER_TENANT": "2.5"}, "DELIVERY_PER_TENANT must be a whole number"),
        ({"DELIVERY_WORKERS": "٢"}, "DELIVERY_WORKERS must be a whole number, 0 or more"),
        ({"DELIVERY_PER_CONVERSATION": "0"}, "DELIVERY_PER_CONVERSATION must be a whole number"),
        ({"ROUND_REMINDER_HOURS": "0"}, "ROUND_REMINDER_HOURS must be a number of hours above 0"),
        ({"ROUND_REMINDER_HOURS": "-3"}, "ROUND_REMINDER_HOURS must be a number of hours"),
        ({"ROUND_REMINDER_HOURS": "nan"}, "ROUND_REMINDER_HOURS must be a number of hours"),
        ({"ROUND_REMINDER_HOURS": "two days"}, "ROUND_REMINDER_HOURS must be a number of hours"),
        ({"ROUND_REMINDER_HOURS": "1e9"}, "at most 8760 (a year)"),
        ({"ROUND_TIMEZONE": "London"}, "ROUND_TIMEZONE must be a time zone name"),
        ({"ROUND_TIMEZONE": "/etc/localtime"}, "ROUND_TIMEZONE must be a time zone name"),
        ({"ROUND_TIMEZONE": "../../etc/passwd"}, "ROUND_TIMEZONE must be a time zone name"),
    ],
)
def test_bad_delivery_and_round_settings_are_refused(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"LOCAL_MODE": "1", **env})
    assert says in str(refused.value)
    assert repr(next(iter(env.values()))) in str(refused.value)  # it says what it was given


def test_every_bad_setting_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(
            {"LOCAL_MODE": "1", "DELIVERY_WORKERS": "x", "ROUND_TIMEZONE": "Nowhere/Town"}
        )
    assert "DELIVERY_WORKERS" in str(refused.value) and "ROUND_TIMEZONE" in str(refused.value)
