"""HTTP through the project's ASGI application (core/asgi.py): the whole sync middleware chain
and the view in one thread hop, with Django's ASGI request handling around it; and the Redis
cache client shared by every thread (core/cache.py)."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.testing import HttpCommunicator
from django.core.cache import cache, caches
from django.http import FileResponse, JsonResponse
from django.test import override_settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from core.asgi import SyncChainASGIHandler
from recycling.asgi import application, django_asgi_app

_seen_threads: list[int] = []


async def _async_view(request):
    return JsonResponse({"async": True, "method": request.method})


@csrf_exempt
def _sync_view(request):
    _seen_threads.append(threading.get_ident())
    return JsonResponse({"body": json.loads(request.body or b"{}")})


class _File(io.BytesIO):
    closed_by_handler = False

    def close(self):
        type(self).closed_by_handler = True
        super().close()


def _file_view(request):
    return FileResponse(_File(b"x" * 200_000), content_type="application/octet-stream")


urlpatterns = [path("t/async/", _async_view), path("t/sync/", _sync_view), path("t/file/", _file_view)]


def _request(method, url, body=b"", headers=None):
    communicator = HttpCommunicator(application, method, url, body=body, headers=headers or [(b"host", b"testserver")])
    # In a thread of its own: the browser tests' session keeps an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, communicator.get_response()).result()


def test_the_http_application_is_the_sync_chain_handler():
    assert isinstance(django_asgi_app, SyncChainASGIHandler)
    # Built for sync: Django adapts nothing between the middleware hooks.
    assert not asyncio.iscoroutinefunction(django_asgi_app._middleware_chain)


@pytest.mark.django_db(transaction=True)
def test_api_request_runs_through_the_middleware():
    response = _request("GET", "/api/v1/categories/", headers=[(b"host", b"testserver"), (b"accept-language", b"en")])

    assert response["status"] == 200
    headers = {name.lower(): value for name, value in response["headers"]}
    assert headers[b"content-language"] == b"en"  # LocaleMiddleware
    assert headers[b"x-frame-options"] == b"DENY"  # XFrameOptionsMiddleware
    assert json.loads(response["body"])  # the catalogue


@pytest.mark.django_db(transaction=True)
def test_api_errors_keep_their_format():
    response = _request("GET", "/api/v1/lots/999999999/")

    assert response["status"] == 404
    assert json.loads(response["body"])["code"] == "not_found"


# The handler's worker threads live as long as the process; the in-memory SQLite test database
# keeps its connection open across requests, which a test without database access may not touch.
@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF=__name__)
def test_sync_view_gets_the_body_and_runs_off_the_event_loop():
    _seen_threads.clear()
    response = _request("POST", "/t/sync/", body=b'{"amount": "10.00"}', headers=[(b"host", b"testserver")])

    assert response["status"] == 200
    assert json.loads(response["body"]) == {"body": {"amount": "10.00"}}
    assert _seen_threads and _seen_threads[0] != threading.get_ident()


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF=__name__)
def test_async_views_still_work():
    response = _request("GET", "/t/async/")

    assert response["status"] == 200
    assert json.loads(response["body"]) == {"async": True, "method": "GET"}


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF=__name__)
def test_a_streaming_response_is_sent_whole_then_closed():
    _File.closed_by_handler = False
    messages = []

    async def call():
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/t/file/",
            "raw_path": b"/t/file/",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")],
            "scheme": "http",
            "http_version": "1.1",
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
            "asgi": {"version": "3.0"},
        }
        inbox = [{"type": "http.request", "body": b""}]

        async def receive():
            return inbox.pop() if inbox else await asyncio.Event().wait()

        async def send(message):
            messages.append(message)

        await application(scope, receive, send)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, call()).result()

    assert messages[0]["status"] == 200
    assert sum(len(m.get("body", b"")) for m in messages[1:]) == 200_000
    assert _File.closed_by_handler


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_each_request_gives_its_database_connection_back_to_the_pool():
    from django.db import connection

    def borrowed() -> int:
        stats = connection.pool.get_stats()
        return stats["pool_size"] - stats["pool_available"]

    before = borrowed()  # this test's own connection
    for _ in range(5):
        assert _request("GET", "/api/v1/categories/")["status"] == 200

    assert borrowed() == before  # nothing left borrowed by a worker thread


@pytest.mark.redis
def test_redis_cache_client_is_shared_by_threads():
    clients = []

    def use_cache():
        own = caches["default"]  # Django's cache handler gives each thread its own object...
        own.set("shared-client-check", 1, 5)
        clients.append((own, own._cache))  # (kept alive: ids of freed objects are reused)

    threads = [threading.Thread(target=use_cache) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({id(obj) for obj, _ in clients}) == 3
    assert len({id(client) for _, client in clients}) == 1  # ...and they share one client
    assert clients[0][1] is cache._cache
    assert cache.get("shared-client-check") == 1


@pytest.mark.redis
def test_set_many_writes_each_key_with_its_own_expiry():
    client = cache._cache.get_client(write=True)

    cache.set_many({"set-many-a": [1.5, 2.5], "set-many-b": "x"}, 30)
    cache.set_many({"set-many-c": 1}, None)

    assert cache.get_many(["set-many-a", "set-many-b", "set-many-c"]) == {
        "set-many-a": [1.5, 2.5],
        "set-many-b": "x",
        "set-many-c": 1,
    }
    assert all(0 < client.ttl(cache.make_key(key)) <= 30 for key in ("set-many-a", "set-many-b"))
    assert client.ttl(cache.make_key("set-many-c")) == -1  # None: kept until deleted
    cache.set_many({"set-many-a": 1, "set-many-c": 2}, 0)  # 0: expired at once, as Django's
    assert cache.get_many(["set-many-a", "set-many-b", "set-many-c"]) == {"set-many-b": "x"}
