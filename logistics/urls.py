"""Logistics pages, mounted at /logistics/ (namespace "logistics"). The public trace page
lives at /trace/<code>/ (recycling/urls.py, name "trace")."""

from django.urls import path

from logistics import views

app_name = "logistics"
urlpatterns = [
    path("jobs/", views.jobs, name="jobs"),
    path("fleet/", views.fleet, name="fleet"),
    path("fleet/<int:vehicle_id>/toggle/", views.vehicle_toggle, name="vehicle_toggle"),
    path("shipments/", views.shipments, name="shipments"),
    path("reviews/", views.reviews, name="reviews"),
    path("lots/<int:lot_id>/book/", views.book, name="book"),
    path("bookings/<int:booking_id>/", views.booking_detail, name="booking_detail"),
    path("bookings/<int:booking_id>/slip/", views.booking_slip, name="booking_slip"),
    path("bookings/<int:booking_id>/<str:action>/", views.booking_action, name="booking_action"),
    path("photos/<str:kind>/<int:pk>/", views.photo, name="photo"),
]
