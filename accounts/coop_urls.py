"""The cooperative's pages, mounted at /coop/ (namespace "coop"); cooperative admins only."""

from django.urls import path
from django.views.generic import RedirectView

from accounts import views

app_name = "coop"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="coop:companies"), name="index"),
    path("companies/", views.companies, name="companies"),
    path("companies/<int:company_id>/", views.company_detail, name="company_detail"),
    path("companies/<int:company_id>/approve/", views.company_action, {"action": "approve"}, name="company_approve"),
    path("companies/<int:company_id>/reject/", views.company_action, {"action": "reject"}, name="company_reject"),
    path("companies/<int:company_id>/suspend/", views.company_action, {"action": "suspend"}, name="company_suspend"),
    path(
        "companies/<int:company_id>/reinstate/",
        views.company_action,
        {"action": "reinstate"},
        name="company_reinstate",
    ),
    path("audit/", views.audit, name="audit"),
]
