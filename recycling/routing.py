"""WebSocket routes of every app, gathered for asgi.py."""

from auctions.routing import websocket_urlpatterns as auction_routes

websocket_urlpatterns: list = [*auction_routes]
