"""A delivered booking's weighing: the weighbridge ticket, inspection deductions, and the seller's
acceptance or dispute, decided by the cooperative."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.drf import error_responses
from core.parsers import JSONParser
from logistics import services
from logistics.api.serializers import (
    BookingReasonSerializer,
    BookingSerializer,
    DecisionSerializer,
    DeductionInputSerializer,
    DeductionSerializer,
    WeighingInputSerializer,
    _booking_body,
)


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
