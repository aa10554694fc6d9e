"""The logistics API's serializers (vehicles, quotes, bookings and their steps, weighings and
deductions), the trace and route-plan response shapes, and the two helpers its views share: a
booking's body as its reader sees it, and a paginated list."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from core.districts import District
from core.drf import Pagination
from core.errors import not_found
from logistics import selectors
from logistics.models import Booking, BookingStep, Deduction, Quote, Vehicle, Weighing


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
