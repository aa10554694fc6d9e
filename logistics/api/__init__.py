"""Logistics and traceability over the API (shared/API.md, "Logistics and traceability").
Import from here: `from logistics import api` (recycling/api_urls.py routes its views). The
modules: serializers (the serializers, the trace and route-plan shapes, and the helpers the views
share), fleet (vehicles), bookings (quotes, bookings and their road steps), weighing (the ticket,
deductions, acceptance, dispute and decision), trace (the carrier's route plan and the public
trace)."""

from logistics.api.bookings import (
    BookingAcceptApi,
    BookingAdvanceApi,
    BookingCancelApi,
    BookingDeclineApi,
    BookingDetailApi,
    BookingListApi,
    LotBookingsApi,
    LotQuotesApi,
)
from logistics.api.fleet import VehicleDetailApi, VehicleListApi
from logistics.api.serializers import (
    ROUTE_PLAN,
    TRACE,
    AdvanceSerializer,
    BookingInputSerializer,
    BookingReasonSerializer,
    BookingSerializer,
    DecisionSerializer,
    DeductionInputSerializer,
    DeductionSerializer,
    DeliverToSerializer,
    PartyCompanySerializer,
    QuoteQuerySerializer,
    QuoteSerializer,
    StepSerializer,
    VehicleChangeSerializer,
    VehicleInputSerializer,
    VehicleSerializer,
    WeighingInputSerializer,
    WeighingSerializer,
)
from logistics.api.trace import LotTraceApi, RoutePlanApi
from logistics.api.weighing import (
    BookingWeighingApi,
    WeighingAcceptApi,
    WeighingDecideApi,
    WeighingDeductionApi,
    WeighingDisputeApi,
)

__all__ = [
    "ROUTE_PLAN",
    "TRACE",
    "AdvanceSerializer",
    "BookingAcceptApi",
    "BookingAdvanceApi",
    "BookingCancelApi",
    "BookingDeclineApi",
    "BookingDetailApi",
    "BookingInputSerializer",
    "BookingListApi",
    "BookingReasonSerializer",
    "BookingSerializer",
    "BookingWeighingApi",
    "DecisionSerializer",
    "DeductionInputSerializer",
    "DeductionSerializer",
    "DeliverToSerializer",
    "LotBookingsApi",
    "LotQuotesApi",
    "LotTraceApi",
    "PartyCompanySerializer",
    "QuoteQuerySerializer",
    "QuoteSerializer",
    "RoutePlanApi",
    "StepSerializer",
    "VehicleChangeSerializer",
    "VehicleDetailApi",
    "VehicleInputSerializer",
    "VehicleListApi",
    "VehicleSerializer",
    "WeighingAcceptApi",
    "WeighingDecideApi",
    "WeighingDeductionApi",
    "WeighingDisputeApi",
    "WeighingInputSerializer",
    "WeighingSerializer",
]
