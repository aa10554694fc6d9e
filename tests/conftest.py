"""Shared fixtures, and the rules for tests that need real services.

Markers: `postgres` (needs DATABASE_URL on PostgreSQL), `redis` (needs REDIS_URL), `browser`
(needs /usr/bin/chromium). Without the service such a test is skipped, except under
CI_STRICT=1 (set by .ci/run), where every skip is turned into a failure: in CI nothing may
silently not run.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Company
from tests import factories

STRICT = os.environ.get("CI_STRICT") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def pytest_collection_modifyitems(config, items):
    missing = {
        "postgres": None if settings.USING_POSTGRES else "needs PostgreSQL: set DATABASE_URL=postgres://…",
        "redis": None if settings.REDIS_URL else "needs Redis: set REDIS_URL=redis://…",
        "browser": None if shutil.which(CHROMIUM) else f"needs Chromium at {CHROMIUM} (apt-get install chromium)",
    }
    for item in items:
        for marker, reason in missing.items():
            if reason and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"CI_STRICT=1: a skip is a failure here ({report.longrepr})"


@pytest.fixture(autouse=True)
def _isolation(settings, tmp_path):
    """Each test: its own media folder, an empty cache (throttle counters), outbox e-mail."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # PBKDF2's million rounds cost ~0.3 s per user; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _catalogue_after_flush(request):
    """Transactional tests (live servers, WebSockets, races) empty every table between tests,
    the category catalogue of the data migration included: put it back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        import importlib

        from django.apps import apps

        request.getfixturevalue("transactional_db") if marker is None else None
        catalogue = importlib.import_module("recycling.migrations.0002_category_catalogue")
        from recycling.models import Category

        if not Category.objects.exists():
            catalogue.forward(apps, None)
    yield


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` authenticates it."""
    client = APIClient()

    def as_user(user):
        client.force_authenticate(user=user)
        return client

    client.as_user = as_user
    return client


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def coop_admin(db):
    return factories.make_admin(username="coop_admin")


@pytest.fixture
def collector(db):
    return factories.make_member(Company.Role.COLLECTOR, username="collector")


@pytest.fixture
def processor(db):
    return factories.make_member(Company.Role.PROCESSOR, username="processor")


@pytest.fixture
def carrier(db):
    return factories.make_member(Company.Role.CARRIER, username="carrier")


@pytest.fixture
def pending_user(db):
    return factories.make_member(Company.Role.PROCESSOR, Company.Status.PENDING, username="pending")


@pytest.fixture
def client_for():
    """client_for(user) -> an APIClient authenticated as `user`."""
    return _client_for
