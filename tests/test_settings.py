"""Settings read from the environment: production differs from development only by variables.

Each case starts a fresh interpreter, because settings are read once at import.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)

# Variables that configure the platform: none may leak from the caller's environment (CI runs
# this file with DATABASE_URL and REDIS_URL set) into a case that states its own.
_CONFIG_PREFIXES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS")
_CONFIG_PREFIXES += ("DB_", "SITE_URL", "STRIPE_", "EMAIL_", "SECURE_", "MEDIA_ROOT", "STATIC_ROOT", "THROTTLE_")
# Set by the browser tests for their own process (Playwright's loop beside the ORM); a
# deployment never has it, and `check --deploy` rightly refuses it.
_CONFIG_PREFIXES += ("DJANGO_ALLOW_ASYNC_UNSAFE",)

_PRINT_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({
    "debug": settings.DEBUG,
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "channel_hosts": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION"),
    "engine": settings.DATABASES["default"]["ENGINE"],
    "using_postgres": settings.USING_POSTGRES,
    "db_options": {k: v for k, v in settings.DATABASES["default"].get("OPTIONS", {}).items() if k == "pool"},
    "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
}))
"""


def _env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(_CONFIG_PREFIXES)}
    env["DJANGO_SETTINGS_MODULE"] = "recycling.settings"
    env.update(overrides)
    return env


def _run(args: list[str], **overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=_env(**overrides),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _settings_in(**overrides: str) -> dict:
    result = _run(["-c", _PRINT_SETTINGS], **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _production_env(tmp_path: Path) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60)[:60],
        "ALLOWED_HOSTS": "recycling.example.org",
        "STRIPE_SECRET_KEY": "sk_test_dummy_for_check",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_dummy_for_check",
        "STRIPE_WEBHOOK_SECRET": "whsec_dummy_for_check",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
    }


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_off_without_secret_key_refuses_to_start(tmp_path):
    env = _production_env(tmp_path)
    del env["SECRET_KEY"]

    result = _run(["manage.py", "check"], **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "Set SECRET_KEY when DEBUG is off." in result.stderr


def test_debug_must_be_a_boolean(tmp_path):
    result = _run(["-c", _PRINT_SETTINGS], DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_redis_url_selects_redis_channel_layer_and_cache():
    url = "redis://127.0.0.1:6379/5"

    found = _settings_in(REDIS_URL=url)

    assert found["channel_layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert found["channel_hosts"] == [{"address": url, "socket_timeout": 5, "socket_connect_timeout": 5}]
    # One Redis client per process, shared by every request's thread (core/cache.py).
    assert found["cache"] == "core.cache.SharedRedisCache"
    assert found["cache_location"] == url


def test_without_redis_url_everything_stays_in_process():
    found = _settings_in()

    assert found["debug"] is True
    assert found["channel_layer"] == "channels.layers.InMemoryChannelLayer"
    assert found["channel_hosts"] is None
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["using_postgres"] is False


def test_postgres_database_url_selects_postgresql():
    found = _settings_in(DATABASE_URL="postgres://postgres@127.0.0.1:5432/recycling")

    assert found["engine"] == "django.db.backends.postgresql"
    assert found["using_postgres"] is True
    # Connections come from a pool and go back to it after each request.
    assert found["conn_max_age"] == 0
    assert found["db_options"] == {"pool": {"min_size": 2, "max_size": 20, "timeout": 10}}


def test_postgres_pool_size_is_a_setting_and_zero_turns_it_off():
    url = "postgres://postgres@127.0.0.1:5432/recycling"

    assert _settings_in(DATABASE_URL=url, DB_POOL_MAX_SIZE="5")["db_options"]["pool"]["max_size"] == 5
    assert _settings_in(DATABASE_URL=url, DB_POOL_MAX_SIZE="0")["db_options"] == {}
    # Persistent connections and a pool exclude each other (Django refuses both): no pool then.
    found = _settings_in(DATABASE_URL=url, DB_CONN_MAX_AGE="60")
    assert (found["conn_max_age"], found["db_options"]) == (60, {})


@pytest.mark.django_db
def test_tests_never_touch_the_developers_database():
    name = str(connection.settings_dict["NAME"])

    assert Path(name) != BASE_DIR / "db.sqlite3"
    if connection.vendor == "sqlite":
        assert connection.is_in_memory_db()
    else:
        assert name.startswith("test_")
