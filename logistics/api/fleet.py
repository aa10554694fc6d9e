"""A carrier's fleet: its vehicles, listed, added, read and changed."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Company
from accounts.services import require_verified_company
from core.drf import error_responses, paginated
from core.errors import not_found
from logistics import selectors, services
from logistics.api.serializers import VehicleChangeSerializer, VehicleInputSerializer, VehicleSerializer, _paginated


class VehicleListApi(APIView):
    @extend_schema(
        operation_id="vehicles_list",
        responses={200: paginated(VehicleSerializer), **error_responses(401, 403)},
        summary="My fleet",
    )
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
