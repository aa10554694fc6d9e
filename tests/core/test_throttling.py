"""core.throttling.BatchedThrottles: DRF's anon, user and scoped throttles with one cache read
and one cache write per request, counting exactly as the three classes listed separately."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch):
    def set_rates(**rates):
        for cls in (AnonRateThrottle, UserRateThrottle, ScopedRateThrottle):
            monkeypatch.setattr(cls, "THROTTLE_RATES", {**cls.THROTTLE_RATES, **rates})

    return set_rates


@pytest.fixture
def locmem():
    """The embedded default's cache, whatever REDIS_URL says (before cache_calls patches it)."""
    from django.test import override_settings

    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        yield


@pytest.fixture
def cache_calls(monkeypatch):
    """The calls the request makes on the cache, by method (not the calls a backend makes on
    itself: the local-memory cache's get_many calls its own get per key)."""
    calls: list[str] = []
    depth = [0]

    def counted(name, real):
        def call(*args, **kwargs):
            if depth[0] == 0:
                calls.append(name)
            depth[0] += 1
            try:
                return real(*args, **kwargs)
            finally:
                depth[0] -= 1

        return call

    from django.core.cache import caches

    store = caches["default"]  # this thread's cache object itself, not the proxy to whichever is current
    for name in ("get", "set", "get_many", "set_many"):
        monkeypatch.setattr(store, name, counted(name, getattr(store, name)))
    return calls


def _history(scope: str, ident) -> list:
    """The throttle's log: a Redis list (REDIS_URL) or DRF's pickled list in the cache."""
    from django.core.cache import caches

    from core.cache import SharedRedisCache
    from core.throttling import _log_key

    key = f"throttle_{scope}_{ident}"
    store = caches["default"]
    if isinstance(store, SharedRedisCache):
        return [float(t) for t in store._cache.get_client().lrange(_log_key(store, key), 0, -1)]
    return cache.get(key, [])


def _live_lot(seller):
    from decimal import Decimal

    return factories.make_live_lot(seller=seller, deposit=Decimal("0.00"))


def test_a_signed_in_bid_reads_and_writes_the_throttles_once(collector, processor, locmem, cache_calls):
    """The local-memory store (the embedded default): one read and one write of the cache."""
    lot, a = _live_lot(collector), processor
    client = APIClient()
    client.force_authenticate(a)

    response = client.post(f"/api/v1/lots/{lot.pk}/bids/", {"amount": "2300.00"}, format="json")

    assert response.status_code == 201
    assert cache_calls == ["get_many", "set_many"]  # two throttles (user, bids), two round trips
    assert len(_history("user", a.pk)) == len(_history("bids", a.pk)) == 1


def test_every_throttle_counts_a_request_another_refuses(collector, processor, rates):
    rates(bids="2/min", user="100/min")
    lot, a = _live_lot(collector), processor
    client = APIClient()
    client.force_authenticate(a)

    codes = [
        client.post(f"/api/v1/lots/{lot.pk}/bids/", {"amount": amount}, format="json").status_code
        for amount in ("2300.00", "2350.00", "2400.00")
    ]

    assert codes == [201, 201, 429]
    assert len(_history("bids", a.pk)) == 2  # the refused one is not counted where it was refused…
    assert len(_history("user", a.pk)) == 3  # …and is where it was within the rate, as with DRF's own


def test_the_longest_wait_of_the_refusals_is_the_retry_after(rates):
    rates(anon="1/min", user="1/hour")
    client = APIClient()
    url = "/api/v1/lots/"

    assert client.get(url).status_code == 200
    response = client.get(url)  # over both: anon (per minute) and user, by address (per hour)

    assert response.status_code == 429
    assert 60 < int(response["Retry-After"]) <= 3600
    assert response.json()["code"] == "rate_limited"


def test_the_pages_and_the_api_share_their_counters(collector, rates):
    """The log-in page counts with DRF's ScopedRateThrottle (core.throttling.limit_posts), the
    API through BatchedThrottles: same keys, same counters."""
    from django.test import Client
    from django.urls import reverse

    rates(auth="2/min")
    Client().post(reverse("accounts:login"), {"username": "collector", "password": "wrong"})
    api = APIClient()
    first = api.post("/api/v1/auth/token/", {"username": "collector", "password": "wrong"}, format="json")
    second = api.post("/api/v1/auth/token/", {"username": "collector", "password": factories.PASSWORD}, format="json")

    assert (first.status_code, second.status_code) == (400, 429)


@pytest.fixture
def redis_down(monkeypatch, caplog):
    """The cache is a Redis that refuses connections (nothing listens on port 1), until the
    test ends (before the cache is emptied for the next one)."""
    from django.test import override_settings

    from core import throttling

    monkeypatch.setattr(throttling, "_cache_down_until", 0.0)
    caplog.set_level("WARNING", logger="core.throttling")
    down = {"default": {"BACKEND": "core.cache.SharedRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    with override_settings(CACHES=down):
        yield caplog


def test_the_api_serves_requests_while_redis_is_down(collector, processor, redis_down, rates):
    rates(bids="1/min")  # would refuse the second bid, had the cache answered
    lot, a = _live_lot(collector), processor
    client = APIClient()
    client.force_authenticate(a)

    first = client.post(f"/api/v1/lots/{lot.pk}/bids/", {"amount": "2300.00"}, format="json")
    second = client.post(f"/api/v1/lots/{lot.pk}/bids/", {"amount": "2350.00"}, format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    lot.refresh_from_db()
    assert (lot.current_price, lot.bid_count) == (Decimal("2350.00"), 2)
    # Asked once, then left alone for CACHE_RETRY_SECONDS: one warning, not one per request.
    assert [r.getMessage()[:40] for r in redis_down.records] == ["Rate limits off for 5 s: the cache did n"]


def test_the_throttles_ask_redis_again_after_the_pause(collector, redis_down, monkeypatch):
    from core import throttling

    monkeypatch.setattr(throttling, "CACHE_RETRY_SECONDS", 0.0)
    client = APIClient()

    assert [client.get("/api/v1/lots/").status_code for _ in range(2)] == [200, 200]
    assert len(redis_down.records) == 2  # each request asked, and each was let through


def test_the_log_in_page_works_while_redis_is_down(collector, redis_down):
    from django.test import Client
    from django.urls import reverse

    response = Client().post(reverse("accounts:login"), {"username": "collector", "password": factories.PASSWORD})

    assert response.status_code == 302
    assert len(redis_down.records) == 1


@pytest.mark.redis
def test_on_redis_a_signed_in_bid_takes_one_round_trip_for_its_throttles(collector, processor, monkeypatch):
    from core import throttling

    calls = []
    real = throttling._sliding_log

    def counted(store):
        script = real(store)

        def call(**kwargs):
            calls.append(len(kwargs["keys"]))
            return script(**kwargs)

        return call

    monkeypatch.setattr(throttling, "_sliding_log", counted)
    lot, a = _live_lot(collector), processor
    client = APIClient()
    client.force_authenticate(a)

    response = client.post(f"/api/v1/lots/{lot.pk}/bids/", {"amount": "2300.00"}, format="json")

    assert response.status_code == 201
    assert calls == [2]  # one script call for both throttles (user, bids)
    assert len(_history("user", a.pk)) == len(_history("bids", a.pk)) == 1
