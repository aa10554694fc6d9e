"""Playwright against Debian's Chromium (never `playwright install`) and pytest-django's
live_server. The sync API runs an event loop in this thread, so Django's async-safety check
has to be told that ORM calls from the test body are fine here."""

from __future__ import annotations

import os

import pytest

from tests.conftest import CHROMIUM

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# One Chromium per module, not per session: Playwright's sync API keeps an event loop running in
# this thread while it is open, and async_to_sync (Channels' tests) refuses to run beside it, so
# modules collected after the browser tests must find it closed.
@pytest.fixture(scope="module")
def pw_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(pw_browser, live_server):
    """new_page(**context_options) -> a Page in a fresh browser context (its own cookies) on the
    live server. English pages by default, so assertions hold once the zh-Hans catalogue exists."""
    contexts = []

    def make(*, locale: str = "en-US", viewport: dict | None = None, **options):
        context = pw_browser.new_context(
            base_url=live_server.url,
            locale=locale,
            viewport=viewport or {"width": 390, "height": 844},
            **options,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
