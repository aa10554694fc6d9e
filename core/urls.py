"""Notification pages, mounted at /notifications/ (namespace "core")."""

from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("", views.notifications, name="notifications"),
    path("read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("<int:notification_id>/read/", views.notification_read, name="notification_read"),
]
