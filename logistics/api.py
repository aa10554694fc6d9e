"""Logistics and traceability over the API (shared/API.md, "Logistics and traceability")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Company
from accounts.services import require_verified_company
from core.districts import District
from core.drf import Pagination, error_responses, query_params
from core.errors import not_found
from logistics import selectors, services
from logistics.models import Booking, BookingStep, Deduction, Quote, Vehicle, Weighing

# --- Serializers ----------------------------------------------------------------------


class PartyCompanySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class VehicleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = [
            "id",
            "type",
            "capacity_t",
            "plate",
            "hazardous_permit_until",
            "districts",
            "rate_per_km",
            "min_charge",
            "active",
        ]


class VehicleInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=Vehicle.Type.choices)
    capacity_t = serializers.DecimalField(max_digits=6, decimal_places=2)
    plate = serializers.CharField(max_length=16)
    hazardous_permit_until = serializers.DateField(required=False, allow_null=True)
    districts = serializers.ListField(child=serializers.ChoiceField(choices=District.choices), allow_empty=False)
    rate_per_km = serializers.DecimalField(max_digits=8, decimal_places=2)
    min_charge = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, default="0.00")


class VehicleChangeSerializer(VehicleInputSerializer):
    active = serializers.BooleanField(required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = False
            if name == "min_charge":
                field.default = serializers.empty


class QuoteQuerySerializer(serializers.Serializer):
    slot_start = serializers.DateTimeField()
    slot_end = serializers.DateTimeField()
    deliver_to_lat = serializers.DecimalField(max_digits=9, decimal_places=6)
    deliver_to_lng = serializers.DecimalField(max_digits=9, decimal_places=6)
    vehicle_type = serializers.ChoiceField(choices=Vehicle.Type.choices, required=False)


class QuoteSerializer(serializers.Serializer):
    quote_id = serializers.UUIDField(source="pk")
    carrier = serializers.SerializerMethodField()
    vehicle_type = serializers.ChoiceField(choices=Vehicle.Type.choices)
    vehicles = serializers.SerializerMethodField()
    trips = serializers.IntegerField()
    distance_km = serializers.DecimalField(max_digits=7, decimal_places=1)
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    slot_start = serializers.DateTimeField()
    slot_end = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()

    def get_carrier(self, quote: Quote) -> dict:
        return {"id": quote.carrier_id, "name": quote.carrier.name}

    def get_vehicles(self, quote: Quote) -> int:
        return len(quote.loads)


class DeliverToSerializer(serializers.Serializer):
    address = serializers.CharField(max_length=200)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6)


class BookingInputSerializer(serializers.Serializer):
    quote_id = serializers.UUIDField()
    slot_start = serializers.DateTimeField()
    slot_end = serializers.DateTimeField()
    deliver_to = DeliverToSerializer()


class BookingReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AdvanceSerializer(serializers.Serializer):
    status = serializers.CharField(max_length=16)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    photo = serializers.FileField(required=False, allow_null=True)


class DeductionInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Deduction.Kind.choices)
    percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    photo = serializers.FileField(required=False, allow_null=True)


class WeighingInputSerializer(serializers.Serializer):
    ticket_no = serializers.CharField(max_length=40)
    gross = serializers.DecimalField(max_digits=12, decimal_places=3)
    tare = serializers.DecimalField(max_digits=12, decimal_places=3)
    net = serializers.DecimalField(max_digits=12, decimal_places=3)
    photo = serializers.FileField(required=False, allow_null=True)
    deductions = DeductionInputSerializer(many=True, required=False)


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    net_payable = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)


class StepSerializer(serializers.ModelSerializer):
    company = serializers.CharField(source="company.name", default=None)
    photo_url = serializers.SerializerMethodField()

    class Meta:
        model = BookingStep
        fields = ["status", "at", "company", "latitude", "longitude", "photo_url", "note", "event_seq"]

    def get_photo_url(self, step: BookingStep) -> str | None:
        return reverse("logistics:photo", args=["step", step.pk]) if step.photo else None


class DeductionSerializer(serializers.ModelSerializer):
    photo_url = serializers.SerializerMethodField()

    class Meta:
        model = Deduction
        fields = ["id", "kind", "percent", "quantity", "note", "photo_url", "created_at"]

    def get_photo_url(self, deduction: Deduction) -> str | None:
        return reverse("logistics:photo", args=["deduction", deduction.pk]) if deduction.photo else None


class WeighingSerializer(serializers.ModelSerializer):
    deductions = DeductionSerializer(many=True, read_only=True)
    net_payable = serializers.SerializerMethodField()
    photo_url = serializers.SerializerMethodField()

    class Meta:
        model = Weighing
        fields = [
            "ticket_no",
            "gross",
            "tare",
            "net",
            "unit",
            "listed_quantity",
            "deviation",
            "tolerance",
            "status",
            "deductions",
            "net_payable",
            "dispute_until",
            "dispute_reason",
            "decision_reason",
            "agreed_at",
            "agreed_how",
            "recorded_at",
            "photo_url",
        ]

    def get_net_payable(self, weighing: Weighing) -> str:
        value = weighing.net_payable if weighing.net_payable is not None else weighing.provisional_payable
        return f"{value}"

    def get_photo_url(self, weighing: Weighing) -> str | None:
        return reverse("logistics:photo", args=["weighing", weighing.pk]) if weighing.photo else None


class BookingSerializer(serializers.ModelSerializer):
    """A booking as its parties (and the cooperative) see it."""

    lot = serializers.SerializerMethodField()
    carrier = PartyCompanySerializer()
    requester = PartyCompanySerializer()
    receiver = PartyCompanySerializer()
    vehicles = serializers.SerializerMethodField()
    deliver_to = serializers.SerializerMethodField()
    pickup = serializers.SerializerMethodField()
    steps = StepSerializer(many=True, read_only=True)
    weighing = serializers.SerializerMethodField()
    slip_url = serializers.SerializerMethodField()
    trace_url = serializers.SerializerMethodField()

    class Meta:
        model = Booking
        fields = [
            "id",
            "lot",
            "status",
            "status_reason",
            "carrier",
            "requester",
            "receiver",
            "vehicle_type",
            "vehicles",
            "trips",
            "quantity_t",
            "distance_km",
            "price",
            "slot_start",
            "slot_end",
            "pickup",
            "deliver_to",
            "created_at",
            "steps",
            "weighing",
            "slip_url",
            "trace_url",
        ]

    def get_lot(self, booking: Booking) -> dict:
        return {"id": booking.lot_id, "code": booking.lot.code}

    def get_vehicles(self, booking: Booking) -> list[dict]:
        return [
            {
                "type": a.vehicle.type,
                "plate": a.vehicle.plate,
                "capacity_t": f"{a.vehicle.capacity_t}",
                "trips": a.trips,
            }
            for a in booking.assignments.all()
        ]

    def get_deliver_to(self, booking: Booking) -> dict:
        return {
            "address": booking.deliver_address,
            "latitude": f"{booking.deliver_lat}",
            "longitude": f"{booking.deliver_lng}",
        }

    def get_pickup(self, booking: Booking) -> dict:
        return {"latitude": f"{booking.pickup_lat}", "longitude": f"{booking.pickup_lng}"}

    def get_weighing(self, booking: Booking) -> dict | None:
        weighing = selectors.weighing_of(booking)
        return WeighingSerializer(weighing).data if weighing else None

    def get_slip_url(self, booking: Booking) -> str:
        return reverse("logistics:booking_slip", args=[booking.pk])

    def get_trace_url(self, booking: Booking) -> str:
        return reverse("trace", args=[booking.lot.code])


TRACE = inline_serializer(
    "LotTrace",
    {
        "code": serializers.CharField(),
        "category": inline_serializer(
            "TraceCategory", {"code": serializers.CharField(), "name": serializers.CharField()}
        ),
        "district": serializers.CharField(),
        "quantity": serializers.CharField(),
        "unit": serializers.CharField(),
        "status": serializers.CharField(),
        "events": serializers.ListField(child=serializers.DictField()),
        "ledger_head": serializers.CharField(),
        "ledger_verified": serializers.BooleanField(),
    },
)

ROUTE_PLAN = inline_serializer(
    "RoutePlan",
    {
        "day": serializers.DateField(),
        "naive_km": serializers.FloatField(),
        "optimised_km": serializers.FloatField(allow_null=True),
        "saving_km": serializers.FloatField(allow_null=True),
        "routes": serializers.ListField(child=serializers.DictField()),
    },
)


def _booking_body(request, booking_id: int) -> dict:
    booking = selectors.booking_for(request.user, booking_id)
    if booking is None:
        raise not_found(_("No such booking."))
    return BookingSerializer(booking).data


def _paginated(request, view, rows, serializer_class) -> Response:
    paginator = Pagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


# --- Fleet ----------------------------------------------------------------------------


class VehicleListApi(APIView):
    @extend_schema(responses={200: VehicleSerializer(many=True), **error_responses(401, 403)}, summary="My fleet")
    def get(self, request):
        company = require_verified_company(request.user, role=Company.Role.CARRIER)
        return _paginated(request, self, selectors.fleet_of(company.pk), VehicleSerializer)

    @extend_schema(
        request=VehicleInputSerializer,
        responses={201: VehicleSerializer, **error_responses(400, 401, 403, 409)},
        summary="Add a vehicle to my fleet (carriers)",
    )
    def post(self, request):
        require_verified_company(request.user, role=Company.Role.CARRIER)
        data = VehicleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vehicle = services.vehicle_create(actor=request.user, **data.validated_data)
        return Response(VehicleSerializer(vehicle).data, status=status.HTTP_201_CREATED)


class VehicleDetailApi(APIView):
    @extend_schema(responses={200: VehicleSerializer, **error_responses(401, 403, 404)}, summary="One of my vehicles")
    def get(self, request, vehicle_id: int):
        company = require_verified_company(request.user, role=Company.Role.CARRIER)
        vehicle = selectors.fleet_of(company.pk).filter(pk=vehicle_id).first()
        if vehicle is None:
            raise not_found(_("No such vehicle."))
        return Response(VehicleSerializer(vehicle).data)

    @extend_schema(
        request=VehicleChangeSerializer,
        responses={200: VehicleSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Change a vehicle's terms, or take it out of service (active: false)",
    )
    def patch(self, request, vehicle_id: int):
        data = VehicleChangeSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        vehicle = services.vehicle_update(actor=request.user, vehicle_id=vehicle_id, **data.validated_data)
        return Response(VehicleSerializer(vehicle).data)


# --- Quotes and bookings --------------------------------------------------------------


class LotQuotesApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("slot_start", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter("slot_end", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter("deliver_to_lat", OpenApiTypes.DECIMAL, required=True),
            OpenApiParameter("deliver_to_lng", OpenApiTypes.DECIMAL, required=True),
            OpenApiParameter("vehicle_type", str, enum=Vehicle.Type.values),
        ],
        responses={200: QuoteSerializer(many=True), **error_responses(400, 401, 403, 404, 409)},
        summary="Carriers that can move the lot in the slot, with prices (winner, or seller when it delivers)",
    )
    def get(self, request, lot_id: int):
        params = query_params(request, "slot_start", "slot_end", "deliver_to_lat", "deliver_to_lng", "vehicle_type")
        data = QuoteQuerySerializer(data={k: v for k, v in params.items() if v is not None})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        quotes = services.quotes_request(
            actor=request.user,
            lot_id=lot_id,
            slot_start=values["slot_start"],
            slot_end=values["slot_end"],
            deliver_lat=values["deliver_to_lat"],
            deliver_lng=values["deliver_to_lng"],
            vehicle_type=values.get("vehicle_type"),
        )
        carriers = {c.pk: c for c in Company.objects.filter(pk__in={q.carrier_id for q in quotes})}
        for quote in quotes:
            quote.carrier = carriers[quote.carrier_id]
        return Response(QuoteSerializer(quotes, many=True).data)


class LotBookingsApi(APIView):
    @extend_schema(
        responses={200: BookingSerializer(many=True), **error_responses(401, 404)},
        summary="The lot's bookings (its parties and the cooperative)",
    )
    def get(self, request, lot_id: int):
        rows = selectors.bookings_visible_to(request.user).filter(lot_id=lot_id).order_by("-created_at", "-id")
        return _paginated(request, self, rows, BookingSerializer)

    @extend_schema(
        request=BookingInputSerializer,
        responses={201: BookingSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Book the carrier of a quote (slot_taken when a vehicle is held in an overlapping slot)",
    )
    def post(self, request, lot_id: int):
        data = BookingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        booking = services.booking_create(
            actor=request.user,
            lot_id=lot_id,
            quote_id=values["quote_id"],
            slot_start=values["slot_start"],
            slot_end=values["slot_end"],
            deliver_address=values["deliver_to"]["address"],
            deliver_lat=values["deliver_to"]["latitude"],
            deliver_lng=values["deliver_to"]["longitude"],
        )
        return Response(_booking_body(request, booking.pk), status=status.HTTP_201_CREATED)


class BookingListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=Booking.Status.values)],
        responses={200: BookingSerializer(many=True), **error_responses(400, 401)},
        summary="Bookings my company takes part in (all of them for the cooperative)",
    )
    def get(self, request):
        params = query_params(request, "status")
        rows = selectors.bookings_visible_to(request.user).order_by("-created_at", "-id")
        if params["status"]:
            rows = rows.filter(status=params["status"])
        return _paginated(request, self, rows, BookingSerializer)


class BookingDetailApi(APIView):
    @extend_schema(
        responses={200: BookingSerializer, **error_responses(401, 404)}, summary="A booking and its timeline"
    )
    def get(self, request, booking_id: int):
        return Response(_booking_body(request, booking_id))


class BookingAcceptApi(APIView):
    @extend_schema(
        request=None,
        responses={200: BookingSerializer, **error_responses(401, 403, 404, 409)},
        summary="Accept a requested booking (its carrier)",
    )
    def post(self, request, booking_id: int):
        services.booking_accept(actor=request.user, booking_id=booking_id)
        return Response(_booking_body(request, booking_id))


class BookingDeclineApi(APIView):
    @extend_schema(
        request=BookingReasonSerializer,
        responses={200: BookingSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Decline a requested booking (its carrier)",
    )
    def post(self, request, booking_id: int):
        data = BookingReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.booking_decline(actor=request.user, booking_id=booking_id, reason=data.validated_data["reason"])
        return Response(_booking_body(request, booking_id))


class BookingCancelApi(APIView):
    @extend_schema(
        request=BookingReasonSerializer,
        responses={200: BookingSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Cancel with a reason (requester before pickup, carrier once accepted, cooperative until delivery)",
    )
    def post(self, request, booking_id: int):
        data = BookingReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.booking_cancel(actor=request.user, booking_id=booking_id, reason=data.validated_data["reason"])
        return Response(_booking_body(request, booking_id))


class BookingAdvanceApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=AdvanceSerializer,
        responses={200: BookingSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Next road step: picked_up → in_transit → delivered (its carrier; optional position and photo)",
    )
    def post(self, request, booking_id: int):
        data = AdvanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        services.booking_advance(
            actor=request.user,
            booking_id=booking_id,
            status=values["status"],
            latitude=values.get("latitude"),
            longitude=values.get("longitude"),
            photo=values.get("photo"),
        )
        return Response(_booking_body(request, booking_id))


class BookingWeighingApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=WeighingInputSerializer,
        responses={200: BookingSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Record the weighbridge ticket of a delivered booking (the receiving processor) → weighed",
    )
    def post(self, request, booking_id: int):
        data = WeighingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        services.weighing_record(
            actor=request.user,
            booking_id=booking_id,
            ticket_no=values["ticket_no"],
            gross=values["gross"],
            tare=values["tare"],
            net=values["net"],
            photo=values.get("photo"),
            deductions=values.get("deductions") or [],
        )
        return Response(_booking_body(request, booking_id))


class WeighingDeductionApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=DeductionInputSerializer,
        responses={201: DeductionSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Add an inspection deduction (impurities 扣杂, moisture 扣水) with a photo (the processor)",
    )
    def post(self, request, booking_id: int):
        data = DeductionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deduction = services.deduction_add(actor=request.user, booking_id=booking_id, **data.validated_data)
        return Response(DeductionSerializer(deduction).data, status=status.HTTP_201_CREATED)


class WeighingAcceptApi(APIView):
    @extend_schema(
        request=None,
        responses={200: BookingSerializer, **error_responses(401, 403, 404, 409)},
        summary="Accept the weight and deductions (the seller): settles on the net payable",
    )
    def post(self, request, booking_id: int):
        services.weighing_accept(actor=request.user, booking_id=booking_id)
        return Response(_booking_body(request, booking_id))


class WeighingDisputeApi(APIView):
    @extend_schema(
        request=BookingReasonSerializer,
        responses={200: BookingSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Dispute the weight within the window (the seller); the cooperative decides",
    )
    def post(self, request, booking_id: int):
        data = BookingReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.weighing_dispute(actor=request.user, booking_id=booking_id, reason=data.validated_data["reason"])
        return Response(_booking_body(request, booking_id))


class WeighingDecideApi(APIView):
    @extend_schema(
        request=DecisionSerializer,
        responses={200: BookingSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Decide a weighing under review or disputed (cooperative admins), with a reason",
    )
    def post(self, request, booking_id: int):
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.weighing_decide(actor=request.user, booking_id=booking_id, **data.validated_data)
        return Response(_booking_body(request, booking_id))


# --- Route plan and trace -------------------------------------------------------------


def _plan_body(plan: selectors.DayPlan) -> dict:
    chosen = plan.optimised or plan.naive
    routes = [
        {
            "vehicle": plan.vehicles[vehicle_id].plate,
            "stops": [
                {
                    "booking": stop.job.booking_id,
                    "kind": stop.kind,
                    "load_t": stop.job.load_t,
                    "arrive_min": stop.arrive_min,
                }
                for stop in stops
            ],
        }
        for vehicle_id, stops in chosen.routes.items()
    ]
    return {
        "day": plan.day.isoformat(),
        "naive_km": plan.naive.distance_km,
        "optimised_km": plan.optimised.distance_km if plan.optimised else None,
        "saving_km": plan.saving_km,
        "routes": routes,
    }


class RoutePlanApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, required=True)],
        responses={200: ROUTE_PLAN, **error_responses(400, 401, 403, 404)},
        summary="The day's visiting order and vehicle assignment for my accepted jobs (carriers)",
    )
    def get(self, request):
        company = require_verified_company(request.user, role=Company.Role.CARRIER)
        raw = query_params(request, "date")["date"]
        try:
            day = dt.date.fromisoformat(raw or "")
        except ValueError:
            raise serializers.ValidationError({"date": [_("Use YYYY-MM-DD.")]}) from None
        plan = selectors.day_plan(company.pk, day)
        if plan is None:
            raise not_found(_("No accepted jobs on this day."))
        return Response(_plan_body(plan))


class LotTraceApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: TRACE, **error_responses(404)},
        summary="The lot's public chain of custody (溯源): no phones, no exact addresses",
    )
    def get(self, request, code: str):
        lot = selectors.lot_by_code(code)
        if lot is None:
            raise not_found(_("No such lot."))
        body = selectors.lot_trace(lot)
        body["trace_url"] = f"{settings.SITE_URL}{reverse('trace', args=[lot.code])}"
        return Response(body)
