"""Audit log (cooperative admins) and notifications (everyone) over the API."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services import require_cooperative_admin
from core import selectors, services
from core.drf import error_responses, query_params
from core.errors import invalid, not_found
from core.models import AuditEntry, Notification


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name")

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "before",
            "after",
            "reason",
        ]


class AuditListApi(ListAPIView):
    serializer_class = AuditEntrySerializer

    @extend_schema(
        responses={200: AuditEntrySerializer(many=True), **error_responses(400, 401, 403)},
        parameters=[
            OpenApiParameter("action", str, description="action prefix, e.g. company. or company.approve"),
            OpenApiParameter("target_type", str),
            OpenApiParameter("target_id", str),
            OpenApiParameter("actor", str, description="username"),
            OpenApiParameter("since", str, description="YYYY-MM-DD"),
            OpenApiParameter("until", str, description="YYYY-MM-DD"),
        ],
        summary="The audit log (cooperative admins)",
    )
    def get(self, request, *args, **kwargs):
        require_cooperative_admin(request.user)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = query_params(self.request, "action", "target_type", "target_id", "actor", "since", "until")
        dates = {}
        for key in ("since", "until"):
            if params[key]:
                field = serializers.DateField()
                try:
                    dates[key] = field.to_internal_value(params[key])
                except serializers.ValidationError:
                    raise invalid("validation_error", _("Dates are YYYY-MM-DD."), **{key: _("Invalid date.")}) from None
        return selectors.audit_list(
            action=params["action"],
            target_type=params["target_type"],
            target_id=params["target_id"],
            actor=params["actor"],
            **dates,
        )


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at", "is_read"]


class NotificationListApi(ListAPIView):
    serializer_class = NotificationSerializer

    @extend_schema(
        responses={200: NotificationSerializer(many=True), **error_responses(401)},
        parameters=[OpenApiParameter("unread", bool)],
        summary="My notifications, newest first",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        unread = self.request.query_params.get("unread") in ("1", "true", "yes")
        return selectors.notifications_for(user=self.request.user, unread=unread)


class NotificationReadApi(APIView):
    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("MarkedRead", {"marked": serializers.IntegerField()}),
            **error_responses(401, 404),
        },
        summary="Mark one notification (or, without an id, all of them) read",
    )
    def post(self, request, notification_id: int | None = None):
        if (
            notification_id is not None
            and not Notification.objects.filter(pk=notification_id, user=request.user).exists()
        ):
            raise not_found(_("No such notification."))
        marked = services.notification_mark_read(user=request.user, notification_id=notification_id)
        return Response({"marked": marked})


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema (YAML or JSON by Accept), with its errors (a POST: 405) in the API's
    JSON error shape rather than in YAML."""

    def handle_exception(self, exc):
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)
