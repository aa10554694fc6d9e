"""Auction pages, mounted at /auctions/ (namespace "auctions")."""

from django.urls import path

from auctions import views

app_name = "auctions"
urlpatterns = [
    path("my-bids/", views.my_bids, name="my_bids"),
    path("lots/<int:lot_id>/", views.lot_live, name="lot_live"),
    path("lots/<int:lot_id>/bid/", views.bid_submit, name="bid"),
]
