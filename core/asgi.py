"""Django over ASGI with one thread hop per request.

Django's own ASGIHandler builds the middleware chain for async. Every middleware we use is a
sync `MiddlewareMixin`, so under it each request hops between the event loop and a worker
thread once per middleware hook (about fifteen hops) before and after the sync view. Under
load those hops, not our code, were most of a request's time: a view returning `{}` served
198 requests/s under Daphne with the async chain, 415/s with the whole sync chain in one hop,
468/s with no middleware at all (8 keep-alive clients, one Daphne).

This handler keeps Django's ASGI request parsing (read_body, create_request) and response
sending, and does all the sync work of a request in one call on a worker thread: the
request_started signal, the middleware and the view, and, for a response already in memory,
`response.close()` with its request_finished signal, which hands the request's database
connection back to the pool from the thread that used it. Django's handler spends three hops
on that (the signals apart, in a thread made for each request by ThreadSensitiveContext) and
two asyncio tasks to watch for a disconnect; on the bid API under three Daphnes this handler
served about a fifth more requests on the same two cores (bench/bids.py, bench/README.md).

What it gives up: a client that disconnects while its view runs no longer cancels the task
awaiting the view (which could not stop a sync view anyway); the response is dropped when it
is sent. A streaming response (FileResponse: photos, documents) is sent after the hop, so the
hop returns the database connection itself and the response is closed after sending.

The worker threads are a pool of ASGI_THREADS (default: the database pool's size, so no
request waits for a connection while holding a thread). Async views still work: the sync
chain calls them through `async_to_sync`.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.handlers.asgi import ASGIHandler, RequestAborted, get_script_prefix
from django.db import close_old_connections
from django.http import HttpResponseBase
from django.urls import set_script_prefix

log = logging.getLogger(__name__)


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self.executor = ThreadPoolExecutor(max_workers=settings.ASGI_THREADS, thread_name_prefix="asgi-request")

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: dict, receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            response = await sync_to_async(self.serve, thread_sensitive=False, executor=self.executor)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=False, executor=self.executor)()
        finally:
            body_file.close()

    def serve(self, scope: dict, body_file: Any) -> HttpResponseBase:
        """The sync part of a request, in one worker thread: see the module docstring."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        response = error_response if request is None else self.get_response(request)
        response._handler_class = self.__class__
        try:
            if response.streaming:
                close_old_connections()  # its content is read while sending, without the database
            else:
                response.close()
        except Exception:  # as under Django's handler, where this comes after sending: the response stands
            log.exception("closing the response of %s failed", scope.get("path"))
        return response


def get_sync_chain_asgi_application() -> SyncChainASGIHandler:
    """Like django.core.asgi.get_asgi_application, with the handler above."""
    import django

    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
