"""Quotes and bookings: a lot's quotes and bookings, the bookings a company takes part in, and a
booking's road steps (accept, decline, cancel, advance)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Company
from core.drf import error_responses, paginated, query_params
from core.parsers import JSONParser
from logistics import selectors, services
from logistics.api.serializers import (
    AdvanceSerializer,
    BookingInputSerializer,
    BookingReasonSerializer,
    BookingSerializer,
    QuoteQuerySerializer,
    QuoteSerializer,
    _booking_body,
    _paginated,
)
from logistics.models import Booking, Vehicle


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
        operation_id="lots_bookings_list",
        responses={200: paginated(BookingSerializer), **error_responses(401, 404)},
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
        operation_id="bookings_list",
        responses={200: paginated(BookingSerializer), **error_responses(400, 401)},
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
