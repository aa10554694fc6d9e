"""Every /api/v1/ route. Each answers with or without its trailing slash."""

from django.urls import re_path
from drf_spectacular.views import SpectacularSwaggerView

from accounts import api as accounts_api
from auctions import api as auctions_api
from core import api as core_api
from core.views import api_not_found
from logistics import api as logistics_api
from payments import api as payments_api
from recycling import api as recycling_api

app_name = "api"


def route(pattern: str, view, name: str):
    return re_path(rf"^{pattern}/?$", view, name=name)


urlpatterns = [
    route("schema", core_api.SchemaView.as_view(), "schema"),
    route("docs", SpectacularSwaggerView.as_view(url_name="api:schema"), "docs"),
    route("auth/token", accounts_api.TokenApi.as_view(), "token"),
    route("accounts/register", accounts_api.RegisterApi.as_view(), "register"),
    route("me", accounts_api.MeApi.as_view(), "me"),
    route("companies", accounts_api.CompanyListApi.as_view(), "company-list"),
    route(r"companies/(?P<company_id>\d+)", accounts_api.CompanyDetailApi.as_view(), "company-detail"),
    route(r"companies/(?P<company_id>\d+)/review", accounts_api.CompanyReviewApi.as_view(), "company-review"),
    route(r"companies/(?P<company_id>\d+)/suspend", accounts_api.CompanySuspendApi.as_view(), "company-suspend"),
    route(r"companies/(?P<company_id>\d+)/reinstate", accounts_api.CompanyReinstateApi.as_view(), "company-reinstate"),
    route(r"companies/(?P<company_id>\d+)/documents", accounts_api.CompanyDocumentsApi.as_view(), "company-documents"),
    route(r"documents/(?P<document_id>\d+)/file", accounts_api.DocumentFileApi.as_view(), "document-file"),
    route("audit", core_api.AuditListApi.as_view(), "audit-list"),
    route("notifications", core_api.NotificationListApi.as_view(), "notification-list"),
    route("notifications/read-all", core_api.NotificationReadApi.as_view(), "notification-read-all"),
    route(r"notifications/(?P<notification_id>\d+)/read", core_api.NotificationReadApi.as_view(), "notification-read"),
    route("categories", recycling_api.CategoryListApi.as_view(), "category-list"),
    route("lots", recycling_api.LotListApi.as_view(), "lot-list"),
    route("lots/mine", recycling_api.LotMineApi.as_view(), "lot-mine"),
    route("lots/review-queue", recycling_api.LotReviewQueueApi.as_view(), "lot-review-queue"),
    route(r"lots/(?P<lot_id>\d+)", recycling_api.LotDetailApi.as_view(), "lot-detail"),
    route(r"lots/(?P<lot_id>\d+)/submit", recycling_api.LotSubmitApi.as_view(), "lot-submit"),
    route(r"lots/(?P<lot_id>\d+)/review", recycling_api.LotReviewApi.as_view(), "lot-review"),
    route(r"lots/(?P<lot_id>\d+)/withdraw", recycling_api.LotWithdrawApi.as_view(), "lot-withdraw"),
    route(r"lots/(?P<lot_id>\d+)/photos", recycling_api.LotPhotosApi.as_view(), "lot-photos"),
    route(
        r"lots/(?P<lot_id>\d+)/photos/(?P<photo_id>\d+)", recycling_api.LotPhotoDetailApi.as_view(), "lot-photo-detail"
    ),
    route(r"lots/(?P<lot_id>\d+)/bids", auctions_api.LotBidsApi.as_view(), "lot-bids"),
    route(r"lots/(?P<lot_id>\d+)/ledger", auctions_api.LedgerApi.as_view(), "lot-ledger"),
    route("wanted", recycling_api.WantedListApi.as_view(), "wanted-list"),
    route(r"wanted/(?P<wanted_id>\d+)/close", recycling_api.WantedCloseApi.as_view(), "wanted-close"),
    route("market/prices", recycling_api.MarketPricesApi.as_view(), "market-prices"),
    route("payments/cards", payments_api.CardListApi.as_view(), "payment-cards"),
    route("payments/cards/setup", payments_api.CardSetupApi.as_view(), "payment-card-setup"),
    route("payments/stripe/webhook", payments_api.StripeWebhookApi.as_view(), "stripe-webhook"),
    route("payments/payouts", payments_api.PayoutListApi.as_view(), "payout-list"),
    route(r"payments/payouts/(?P<payout_id>\d+)/paid", payments_api.PayoutPaidApi.as_view(), "payout-paid"),
    route("payments/strikes", payments_api.StrikeListApi.as_view(), "strike-list"),
    route(r"payments/strikes/(?P<strike_id>\d+)/reverse", payments_api.StrikeReverseApi.as_view(), "strike-reverse"),
    route(r"lots/(?P<lot_id>\d+)/deposit", payments_api.LotDepositApi.as_view(), "lot-deposit"),
    route(r"lots/(?P<lot_id>\d+)/payment-terms", payments_api.LotPaymentTermsApi.as_view(), "lot-payment-terms"),
    route(r"lots/(?P<lot_id>\d+)/settlement", payments_api.LotSettlementApi.as_view(), "lot-settlement"),
    route(
        r"lots/(?P<lot_id>\d+)/settlement/weight",
        payments_api.LotSettlementWeightApi.as_view(),
        "lot-settlement-weight",
    ),
    route(r"lots/(?P<lot_id>\d+)/settlement/pay", payments_api.LotSettlementPayApi.as_view(), "lot-settlement-pay"),
    route(
        r"lots/(?P<lot_id>\d+)/settlement/default",
        payments_api.LotSettlementDefaultApi.as_view(),
        "lot-settlement-default",
    ),
    route(
        r"lots/(?P<lot_id>\d+)/settlement/reoffer",
        payments_api.LotSettlementReofferApi.as_view(),
        "lot-settlement-reoffer",
    ),
    route(
        r"lots/(?P<lot_id>\d+)/settlement/relist",
        payments_api.LotSettlementRelistApi.as_view(),
        "lot-settlement-relist",
    ),
    route("vehicles", logistics_api.VehicleListApi.as_view(), "vehicle-list"),
    route(r"vehicles/(?P<vehicle_id>\d+)", logistics_api.VehicleDetailApi.as_view(), "vehicle-detail"),
    route(r"lots/(?P<lot_id>\d+)/quotes", logistics_api.LotQuotesApi.as_view(), "lot-quotes"),
    route(r"lots/(?P<lot_id>\d+)/bookings", logistics_api.LotBookingsApi.as_view(), "lot-bookings"),
    route(r"lots/(?P<code>HRB-\d{4}-\d{6,})/trace", logistics_api.LotTraceApi.as_view(), "lot-trace"),
    route("bookings", logistics_api.BookingListApi.as_view(), "booking-list"),
    route(r"bookings/(?P<booking_id>\d+)", logistics_api.BookingDetailApi.as_view(), "booking-detail"),
    route(r"bookings/(?P<booking_id>\d+)/accept", logistics_api.BookingAcceptApi.as_view(), "booking-accept"),
    route(r"bookings/(?P<booking_id>\d+)/decline", logistics_api.BookingDeclineApi.as_view(), "booking-decline"),
    route(r"bookings/(?P<booking_id>\d+)/cancel", logistics_api.BookingCancelApi.as_view(), "booking-cancel"),
    route(r"bookings/(?P<booking_id>\d+)/advance", logistics_api.BookingAdvanceApi.as_view(), "booking-advance"),
    route(r"bookings/(?P<booking_id>\d+)/weighing", logistics_api.BookingWeighingApi.as_view(), "booking-weighing"),
    route(
        r"bookings/(?P<booking_id>\d+)/weighing/deductions",
        logistics_api.WeighingDeductionApi.as_view(),
        "weighing-deductions",
    ),
    route(
        r"bookings/(?P<booking_id>\d+)/weighing/accept", logistics_api.WeighingAcceptApi.as_view(), "weighing-accept"
    ),
    route(
        r"bookings/(?P<booking_id>\d+)/weighing/dispute", logistics_api.WeighingDisputeApi.as_view(), "weighing-dispute"
    ),
    route(
        r"bookings/(?P<booking_id>\d+)/weighing/decide", logistics_api.WeighingDecideApi.as_view(), "weighing-decide"
    ),
    route("route-plan", logistics_api.RoutePlanApi.as_view(), "route-plan"),
    # Last: any other path under /api/ is a JSON 404, also with DEBUG on.
    re_path(r"^.*$", api_not_found, name="not-found"),
]
