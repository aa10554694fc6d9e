"""Route plan and trace: a carrier's day plan, and a lot's public chain of custody (溯源)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Company
from accounts.services import require_verified_company
from core.drf import error_responses, query_params
from core.errors import not_found
from logistics import selectors
from logistics.api.serializers import ROUTE_PLAN, TRACE


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
