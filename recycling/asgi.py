"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Served by Daphne (`daphne recycling.asgi:application`).
"""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recycling.settings")

from core.asgi import get_sync_chain_asgi_application  # noqa: E402

# Django must be set up before anything imports models (consumers, routing). One thread hop
# per request instead of one per middleware hook: see core/asgi.py.
django_asgi_app = get_sync_chain_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.websocket import AllowedHostsBrowserOriginValidator, TokenAuthMiddleware  # noqa: E402
from recycling.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Session (browsers, behind the Origin check) or API token (programs): core/websocket.py.
        "websocket": AllowedHostsBrowserOriginValidator(
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Everything loaded at start-up lives as long as the process: move it out of the collector's
# sight, and collect the young generation less often. With 1,000 watchers, full collections
# took 150–200 ms every 1–2 s; this took live fan-out p99 from ~290 to ~115 ms (bench/fanout.py).
gc.freeze()
gc.set_threshold(50_000, 20, 100)
