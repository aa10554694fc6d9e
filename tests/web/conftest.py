"""Fixtures of the page tests: Django test clients (session login, CSRF as in a browser is
not enforced by the test client) that ask for English pages, so assertions on English text
keep holding once the zh-Hans catalogue exists."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client


def _english_client() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def web():
    """An anonymous browser-like client that reads English pages."""
    return _english_client()


@pytest.fixture
def web_as(db):
    """web_as(user) -> a client logged in as `user`, reading English pages."""

    def make(user) -> Client:
        client = _english_client()
        client.force_login(user)
        return client

    return make
