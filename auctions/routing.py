from django.urls import path

from auctions.consumers import LotConsumer

websocket_urlpatterns = [path("ws/lots/<int:lot_id>/", LotConsumer.as_asgi())]
