"""The WebSocket stack's checks of who is connecting (recycling/asgi.py).

Browsers send the session cookie on their own, so a page of another site could open a socket
that bids as its visitor: the Origin check stops that. Every browser sends an Origin header
with a WebSocket handshake; a handshake without one comes from a program (a mobile app, a
partner system), which carries no ambient credentials to abuse, and may connect like any
watcher. Such a program authenticates as on the REST API, with `Authorization: Token <key>`.

A connection lives for hours; its user is read again for each bid (connection_user), so a
browser logged out in another tab, a changed password or a deleted token stops bidding at
once. Replies are in the language of the page that opened the socket (connection_language).
"""

from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib import auth
from django.utils import translation
from rest_framework import exceptions


class BrowserOriginValidator(OriginValidator):
    """Channels' AllowedHostsOriginValidator, letting handshakes without an Origin through."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def AllowedHostsBrowserOriginValidator(application: Any) -> BrowserOriginValidator:  # noqa: N802 (as Channels')
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed_hosts)


def _token_user_now(key: str) -> Any | None:
    from core.authentication import TokenAuthentication

    try:
        user, _token = TokenAuthentication().authenticate_credentials(key)
    except exceptions.AuthenticationFailed:
        return None
    return user


_token_user = database_sync_to_async(_token_user_now)


def connection_user(scope: dict) -> Any | None:
    """The user the connection acts for now (synchronous: it reads the database), or None: the
    token it connected with, or its session as the session store holds it now."""
    if scope.get("auth_token"):
        return _token_user_now(scope["auth_token"])
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    if not key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    user = auth.get_user(SimpleNamespace(session=store))  # checks the session's password hash too
    return user if user.is_authenticated else None


def connection_language(scope: dict) -> str:
    """The language LocaleMiddleware would choose for the page that opened the socket: the
    language cookie, else Accept-Language, else the default (zh-Hans)."""
    headers = dict(scope.get("headers") or [])
    request = SimpleNamespace(
        COOKIES=scope.get("cookies") or {},
        META={"HTTP_ACCEPT_LANGUAGE": headers.get(b"accept-language", b"").decode("latin-1")},
        path_info=scope.get("path", "/"),
    )
    return translation.get_language_from_request(request)


class TokenAuthMiddleware:
    """Inside Channels' AuthMiddlewareStack: a connection without a logged-in session that sends
    `Authorization: Token <key>` acts as the token's user. A wrong token leaves it anonymous
    (it may watch; a bid gets `not_authenticated`)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            header = dict(scope.get("headers") or []).get(b"authorization", b"")
            kind, _, key = header.decode("latin-1").partition(" ")
            if kind.lower() == "token" and key.strip():
                found = await _token_user(key.strip())
                if found is not None:
                    scope = {**scope, "user": found, "auth_token": key.strip()}
        return await self.inner(scope, receive, send)
