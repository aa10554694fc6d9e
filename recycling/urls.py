from django.contrib import admin
from django.urls import include, path, re_path

from core import views as core_views
from logistics import views as logistics_views
from recycling import views as recycling_views

urlpatterns = [
    path("", recycling_views.home_board, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("recycling.api_urls")),
    re_path(r"^api/", core_views.api_not_found),  # other API versions and paths: JSON 404
    path("lots/", include("recycling.lot_urls")),
    path("auctions/", include("auctions.urls")),
    path("accounts/", include("accounts.urls")),
    path("coop/", include("accounts.coop_urls")),
    path("notifications/", include("core.urls")),
    path("logistics/", include("logistics.urls")),
    path("trace/<str:code>/", logistics_views.trace_page, name="trace"),
    path("payments/", include("payments.urls")),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
