"""The forms a stranger can post to (log in, register, password reset) share the API's rate
limits and counters (core/throttling.py): over the limit the page comes back with a message,
429 and Retry-After, and the form is not processed."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import Company
from tests import factories
from tests.web.test_register import _form

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch):
    def set_rates(**rates):
        monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, **rates})

    return set_rates


def _assert_limited(response) -> None:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60 * 60
    assert "Too many attempts" in response.content.decode()


def test_login_page_stops_guessing_even_the_right_password(web, collector, rates):
    rates(auth="2/min")
    url = reverse("accounts:login")
    for _ in range(2):
        assert web.post(url, {"username": "collector", "password": "wrong"}).status_code == 200

    response = web.post(url, {"username": "collector", "password": factories.PASSWORD})

    _assert_limited(response)
    assert "_auth_user_id" not in web.session
    assert web.get(url).status_code == 200  # reading the page is not limited


def test_login_page_and_token_api_share_one_counter(web, collector, rates):
    rates(auth="2/min")
    api = APIClient()
    api.post("/api/v1/auth/token/", {"username": "collector", "password": "wrong"}, format="json")
    api.post("/api/v1/auth/token/", {"username": "collector", "password": "wrong"}, format="json")

    response = web.post(reverse("accounts:login"), {"username": "collector", "password": factories.PASSWORD})

    _assert_limited(response)


def test_register_page_is_limited(web, rates):
    rates(register="1/hour")
    web.post(reverse("accounts:register"), _form(username="first", credit_code="bad"))

    response = web.post(reverse("accounts:register"), _form())

    _assert_limited(response)
    assert not Company.objects.exists()


def test_password_reset_page_is_limited(web, collector, rates):
    rates(auth="1/min")
    web.post(reverse("accounts:password_reset"), {"email": collector.email})

    response = web.post(reverse("accounts:password_reset"), {"email": collector.email})

    _assert_limited(response)
    assert len(mail.outbox) == 1
