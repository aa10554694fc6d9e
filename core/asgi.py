"""Django over ASGI with one thread hop per request.

Django's own ASGIHandler builds the middleware chain for async. Every middleware we use is a
sync `MiddlewareMixin`, so under it each request hops between the event loop and a worker
thread once per middleware hook (about fifteen hops) before and after the sync view. Under
load those hops, not our code, were most of a request's time: a view returning `{}` served
198 requests/s under Daphne with the async chain, 415/s with this handler, 468/s with no
middleware at all (8 keep-alive clients, one Daphne; bench/bids.py has the bid figures).

This handler keeps Django's ASGI request parsing, disconnect handling and streaming responses,
and runs the whole sync chain (middleware + view) in one `sync_to_async` call. It is
thread-sensitive, so it runs in the request's own thread (Django's ThreadSensitiveContext),
the same thread that later closes the response and with it the request's DB connection.
Async views still work: the sync chain calls them through `async_to_sync`.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def get_sync_chain_asgi_application() -> SyncChainASGIHandler:
    """Like django.core.asgi.get_asgi_application, with the handler above."""
    import django

    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
