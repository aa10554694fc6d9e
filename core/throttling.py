"""Rate limits: the API's throttles, in one Redis round trip per request; and the HTML forms
whose API twins are limited (log in, register, password reset).

BatchedThrottles is the API's only default throttle class. It runs DRF's own anon, user and
scoped throttles (their rates, keys and sliding-log counting, unchanged) for a request at once:
- on Redis (REDIS_URL), the logs are Redis lists kept by one Lua script (_SLIDING_LOG) in one
  round trip per request. DRF's way, a pickled list read and written back per throttle, took
  four; reading and writing them in two batches still cost about a sixth of the bid API's
  throughput under three Daphnes (bench/bids.py, throttles off as a what-if);
- on any other cache (the embedded default's local memory), DRF's pickled lists, read with one
  `get_many` and written with one `set_many`.

The pages use the API's own throttle (DRF's ScopedRateThrottle: the same keys, so the same
counters, and the same rates, REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]): guessing passwords, or
registering companies, through the page and the API together gets no more tries than through
either one. Only POSTs count; a refused POST shows the page again with a message and status
429 (Retry-After), and the form is not processed.

When the cache (Redis) does not answer, the throttles let requests through rather than fail
them: the database, not Redis, holds every bid and lot, so a Redis outage should cost the
platform its rate limits for a while, not its API. After a failure they do not ask Redis again
for CACHE_RETRY_SECONDS, so an outage does not add a timeout to every request.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import wraps
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.core.cache import cache as default_cache
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rest_framework.throttling import AnonRateThrottle, BaseThrottle, ScopedRateThrottle, UserRateThrottle

from core.cache import SharedRedisCache

log = logging.getLogger(__name__)

CACHE_RETRY_SECONDS = 5.0
_cache_down_until = 0.0  # time.monotonic() before which the throttles do not ask the cache


def _cache_down() -> bool:
    return time.monotonic() < _cache_down_until


def _cache_failed(error: Exception) -> None:
    global _cache_down_until
    _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
    log.warning("Rate limits off for %.0f s: the cache did not answer (%r)", CACHE_RETRY_SECONDS, error)


class _KeyRecorder:
    """A throttle's cache for a dry run: notes the keys it reads, keeps nothing."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:
        self.keys.append(key)
        return default

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        pass


class _Prefetched:
    """A throttle's cache for the real run: the histories read at once before it, the writes
    kept for one `set_many` per timeout after it."""

    def __init__(self, keys: list[str]) -> None:
        self.values = default_cache.get_many(keys) if keys else {}
        self.writes: dict[Any, dict[str, Any]] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        self.writes.setdefault(timeout, {})[key] = value

    def flush(self) -> None:
        for timeout, values in self.writes.items():
            default_cache.set_many(values, timeout)


# DRF's sliding log (SimpleRateThrottle.allow_request) for every key of a request, in Redis, in
# one round trip: a list per key, newest first; entries older than the rate's duration dropped
# from the tail; the request recorded where it is within the rate. Returns, per key, whether
# it was within (1/0), the entries counted, and the oldest one's time (for the wait).
_SLIDING_LOG = """
local now = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
    local limit = tonumber(ARGV[2 * i])
    local duration = tonumber(ARGV[2 * i + 1])
    while true do
        local last = redis.call('LINDEX', key, -1)
        if not last or tonumber(last) > now - duration then break end
        redis.call('RPOP', key)
    end
    local length = redis.call('LLEN', key)
    local within = 0
    if length < limit then
        redis.call('LPUSH', key, ARGV[1])
        redis.call('PEXPIRE', key, math.ceil(duration * 1000))
        within, length = 1, length + 1
    end
    table.insert(out, within)
    table.insert(out, length)
    table.insert(out, redis.call('LINDEX', key, -1) or ARGV[1])
end
return out
"""


def _sliding_log(cache: Any) -> Any:
    """_SLIDING_LOG registered with the cache's client: sent by its SHA (EVALSHA), the script
    itself only when Redis does not know it yet."""
    client = cache._cache.get_client(write=True)
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts.setdefault(id(client), client.register_script(_SLIDING_LOG))
    return script


_scripts: dict[int, Any] = {}


def _log_key(cache: Any, key: str) -> str:
    """A throttle's key in Redis: the cache's key with a suffix (the cache-based store keeps a
    pickled list at the cache's key itself)."""
    return cache.make_key(key) + ":log"


class BatchedThrottles(BaseThrottle):
    """DRF's AnonRateThrottle, UserRateThrottle and ScopedRateThrottle as one throttle class,
    with one cache read and one cache write per request (module docstring). As with the three
    listed separately, every applicable throttle counts the request when it is within its
    rate, even if another refuses it, and the wait is the longest of the refusals'."""

    throttle_classes = (AnonRateThrottle, UserRateThrottle, ScopedRateThrottle)

    def allow_request(self, request: Any, view: Any) -> bool:
        throttles = [cls() for cls in self.throttle_classes]
        recorder = _KeyRecorder()
        for throttle in throttles:  # a dry run, to learn the keys (a scoped one sets its rate here)
            throttle.cache = recorder
            throttle.allow_request(request, view)
        self.refused = []
        if _cache_down():
            return True
        if isinstance(caches["default"], SharedRedisCache):
            return self._in_redis([t for t in throttles if getattr(t, "key", None) and t.rate])
        try:
            store = _Prefetched(recorder.keys)
        except RedisError as error:
            _cache_failed(error)
            return True
        for throttle in throttles:
            throttle.cache = store
            if not throttle.allow_request(request, view):
                self.refused.append(throttle)
        try:
            store.flush()
        except RedisError as error:  # the request was judged on what was read; it stands
            _cache_failed(error)
        return not self.refused

    def _in_redis(self, throttles: list[Any]) -> bool:
        """The sliding logs in one round trip (_SLIDING_LOG)."""
        if not throttles:
            return True
        cache = caches["default"]
        now = time.time()
        args: list[Any] = [repr(now)]
        for throttle in throttles:
            args += [throttle.num_requests, throttle.duration]
        try:
            reply = _sliding_log(cache)(keys=[_log_key(cache, t.key) for t in throttles], args=args)
        except RedisError as error:
            _cache_failed(error)
            return True
        for index, throttle in enumerate(throttles):
            within, length, oldest = reply[3 * index : 3 * index + 3]
            if not within:  # what DRF's wait() reads: the entries counted, the oldest last
                throttle.now, throttle.history = now, [float(oldest)] * int(length)
                self.refused.append(throttle)
        return not self.refused

    def wait(self) -> float | None:
        waits = [wait for wait in (throttle.wait() for throttle in self.refused) if wait is not None]
        return max(waits) if waits else None


class _ScopeThrottle(BatchedThrottles):
    throttle_classes = (ScopedRateThrottle,)


def throttle_wait(request: HttpRequest, scope: str) -> int | None:
    """None, counting the request, while `request` is within `scope`'s rate; else the seconds
    to wait (the request is not counted). The API's own throttle, so the same counters."""
    throttle = _ScopeThrottle()
    if throttle.allow_request(request, SimpleNamespace(throttle_scope=scope)):
        return None
    return max(1, math.ceil(throttle.wait() or 1))


def limit_posts(scope: str) -> Callable:
    """View decorator: POSTs over `scope`'s rate get the page as for a GET, with an error
    message, status 429 and Retry-After."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            wait = throttle_wait(request, scope)
            if wait is None:
                return view(request, *args, **kwargs)
            messages.error(
                request,
                _("Too many attempts from your network. Try again in %(seconds)d seconds.") % {"seconds": wait},
            )
            request.method = "GET"  # the form is shown again, not processed
            response = view(request, *args, **kwargs)
            response.status_code = 429
            response["Retry-After"] = str(wait)
            return response

        return wrapped

    return decorator
