"""Rate limits for the HTML forms whose API twins are limited: log in, register, password reset.

The pages use the API's own throttle (DRF's ScopedRateThrottle: the same cache keys, so the same
counters, and the same rates, REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]): guessing passwords, or
registering companies, through the page and the API together gets no more tries than through
either one. Only POSTs count; a refused POST shows the page again with a message and status
429 (Retry-After), and the form is not processed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from rest_framework.throttling import ScopedRateThrottle


def throttle_wait(request: HttpRequest, scope: str) -> int | None:
    """None, counting the request, while `request` is within `scope`'s rate; else the seconds
    to wait (the request is not counted)."""
    throttle = ScopedRateThrottle()
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
