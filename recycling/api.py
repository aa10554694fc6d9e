"""Lots-domain API (shared/API.md: Categories, Lots) and wanted requests, market prices."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Company
from accounts.services import require_cooperative_admin, require_verified_company
from auctions.services import increment_for, minimum_next_bid
from core.districts import District
from core.drf import error_responses
from core.errors import not_found
from core.parsers import JSONParser
from recycling import selectors, services
from recycling.models import Category, Lot, LotPhoto, Unit, WantedRequest


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = ["code", "name", "name_en", "unit", "hazardous", "parent"]


class CategoryListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=CategorySerializer(many=True), summary="The renewable-resources catalogue with grades")
    def get(self, request):
        categories = Category.objects.filter(active=True).select_related("parent").order_by("sort", "code")
        return Response(CategorySerializer(categories, many=True).data)


# --- Lots -----------------------------------------------------------------------------


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = LotPhoto
        fields = ["id", "url", "thumbnail_url", "width", "height", "position"]

    def get_url(self, photo: LotPhoto) -> str:
        return reverse("recycling:photo", args=[photo.pk, "full"])

    def get_thumbnail_url(self, photo: LotPhoto) -> str:
        return reverse("recycling:photo", args=[photo.pk, "thumb"])


class CompanyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ContactSerializer(serializers.Serializer):
    phone = serializers.CharField()
    address = serializers.CharField()


# No bid is taken any more: the next-bid figures are null.
LOT_CLOSED = (Lot.Status.AWARDED, Lot.Status.UNSOLD, Lot.Status.WITHDRAWN)


class LotSerializer(serializers.ModelSerializer):
    """A lot as the viewer may see it (reserve price, contact and exact place are restricted)."""

    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_name = serializers.CharField(source="category.__str__", read_only=True)
    licence_required = serializers.BooleanField(source="category.licence_required", read_only=True)
    photos = PhotoSerializer(many=True, read_only=True)
    reserve_met = serializers.BooleanField(read_only=True)
    reserve_price = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    latitude = serializers.SerializerMethodField()
    longitude = serializers.SerializerMethodField()
    seller = serializers.SerializerMethodField()
    seller_contact = serializers.SerializerMethodField()
    winner = serializers.SerializerMethodField()
    review_reason = serializers.SerializerMethodField()
    contact_warning = serializers.SerializerMethodField()
    min_next_bid = serializers.SerializerMethodField(
        help_text=(
            "The lowest bid accepted now: start_price before the first bid (always, for a sealed lot), then "
            "current_price + current_increment rounded up to the grid start_price + k × current_increment; "
            "null once closed."
        )
    )
    current_increment = serializers.SerializerMethodField(
        help_text=(
            "The step of the next bid: bid_increment, or the ladder's step at the current price "
            "(the start price before any bid); null for a sealed lot and once closed."
        )
    )

    class Meta:
        model = Lot
        fields = [
            "id",
            "code",
            "title",
            "category",
            "category_name",
            "licence_required",
            "quantity",
            "unit",
            "description",
            "district",
            "address",
            "latitude",
            "longitude",
            "photos",
            "format",
            "start_price",
            "reserve_price",
            "reserve_met",
            "bid_increment",
            "current_increment",
            "min_next_bid",
            "deposit",
            "starts_at",
            "ends_at",
            "soft_close_seconds",
            "max_extension_seconds",
            "min_bidders",
            "pickup_from",
            "pickup_until",
            "seller_delivers",
            "status",
            "current_price",
            "bid_count",
            "seq",
            "seller",
            "seller_contact",
            "winner",
            "final_price",
            "review_reason",
            "contact_warning",
            "created_at",
            "published_at",
            "closed_at",
        ]

    @property
    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True))
    def get_reserve_price(self, lot: Lot) -> str | None:
        if lot.reserve_price is None or not selectors.can_see_reserve(self._user, lot):
            return None
        return f"{lot.reserve_price:.2f}"

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True))
    def get_min_next_bid(self, lot: Lot) -> str | None:
        if lot.status in LOT_CLOSED:
            return None
        return f"{minimum_next_bid(lot):.2f}"

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True))
    def get_current_increment(self, lot: Lot) -> str | None:
        # A sealed bid may be any amount from the start price up: it has no grid to step on.
        if lot.status in LOT_CLOSED or lot.format == Lot.Format.SEALED:
            return None
        return f"{increment_for(lot):.2f}"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_address(self, lot: Lot) -> str | None:
        return lot.address if selectors.can_see_contact(self._user, lot) else None

    def _coordinate(self, lot: Lot, value: Decimal | None) -> str | None:
        if value is None:
            return None
        if selectors.can_see_contact(self._user, lot):
            return f"{value:.6f}"
        return f"{value:.2f}"  # about a kilometre: where, not which yard

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_latitude(self, lot: Lot) -> str | None:
        return self._coordinate(lot, lot.latitude)

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_longitude(self, lot: Lot) -> str | None:
        return self._coordinate(lot, lot.longitude)

    @extend_schema_field(CompanyRefSerializer)
    def get_seller(self, lot: Lot) -> dict:
        return {"id": lot.seller_id, "name": lot.seller.name}

    @extend_schema_field(ContactSerializer(allow_null=True))
    def get_seller_contact(self, lot: Lot) -> dict | None:
        if not selectors.can_see_contact(self._user, lot):
            return None
        return {"phone": lot.seller.contact_phone, "address": lot.address}

    @extend_schema_field(CompanyRefSerializer(allow_null=True))
    def get_winner(self, lot: Lot) -> dict | None:
        if lot.winner_id is None:
            return None
        return {"id": lot.winner_id, "name": lot.winner.name}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_review_reason(self, lot: Lot) -> str | None:
        return lot.review_reason if selectors.can_see_reserve(self._user, lot) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_contact_warning(self, lot: Lot) -> str | None:
        user = self._user
        return lot.contact_warning if user and user.is_authenticated and user.is_cooperative_admin else None


class LotInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.filter(active=True))
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    unit = serializers.ChoiceField(choices=Unit.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    district = serializers.ChoiceField(choices=District.choices, required=False)
    address = serializers.CharField(max_length=200, required=False)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    format = serializers.ChoiceField(choices=Lot.Format.choices, required=False)
    start_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    reserve_price = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    bid_increment = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Omitted or null: the default ladder by current price (see current_increment).",
    )
    deposit = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Omitted or null: 10% of start_price × quantity. 0.00: no deposit is needed to bid.",
    )
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    soft_close_seconds = serializers.IntegerField(min_value=0, max_value=86_400, required=False)
    max_extension_seconds = serializers.IntegerField(min_value=0, max_value=7 * 86_400, required=False)
    min_bidders = serializers.IntegerField(min_value=1, max_value=100, required=False)
    pickup_from = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Not before ends_at. Omitted or null: ends_at (the scheduled end of bidding).",
    )
    pickup_until = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=(
            "After pickup_from. Omitted or null: ends_at + max_extension_seconds (the latest possible close) "
            f"+ {settings.PAYMENT_DAYS + services.PICKUP_DAYS_AFTER_PAYMENT} days "
            f"({settings.PAYMENT_DAYS} days to pay, then a week to book a carrier and collect)."
        ),
    )
    seller_delivers = serializers.BooleanField(required=False)


LOT_FILTERS = [
    OpenApiParameter("status", str, description="one status, or several separated by commas"),
    OpenApiParameter("category", str, description="category code; a class includes its grades"),
    OpenApiParameter("district", enum=District.values),
    OpenApiParameter("q", str, description="text in title or description (all words)"),
    OpenApiParameter("min_quantity", OpenApiTypes.DECIMAL),
    OpenApiParameter("max_quantity", OpenApiTypes.DECIMAL),
    OpenApiParameter("ends_before", OpenApiTypes.DATETIME),
    OpenApiParameter("ordering", enum=list(selectors.ORDERINGS)),
]


def _lot_response(request, lot_id: int, *, code: int = status.HTTP_200_OK) -> Response:
    lot = selectors.lot_for(request.user, lot_id)
    return Response(LotSerializer(lot, context={"request": request}).data, status=code)


class LotListApi(ListAPIView):
    serializer_class = LotSerializer
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=LOT_FILTERS,
        responses={200: LotSerializer(many=True), **error_responses(400)},
        summary="The public board of published lots",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.lot_search(user=self.request.user, params=self.request.query_params)

    @extend_schema(
        request=LotInputSerializer,
        responses={201: LotSerializer, **error_responses(400, 401, 403)},
        summary="List a lot (draft)",
    )
    def post(self, request):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        require_verified_company(request.user, role=Company.Role.COLLECTOR)
        data = LotInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lot = services.lot_create(actor=request.user, **data.validated_data)
        return _lot_response(request, lot.pk, code=status.HTTP_201_CREATED)


class LotMineApi(ListAPIView):
    serializer_class = LotSerializer

    @extend_schema(
        parameters=LOT_FILTERS,
        responses={200: LotSerializer(many=True), **error_responses(400, 401, 403)},
        summary="My company's lots, every status",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        company_id = self.request.user.company_id
        if company_id is None:
            return Lot.objects.none()
        base = Lot.objects.filter(seller_id=company_id)
        params = dict(self.request.query_params.items())
        params.setdefault("ordering", "-created_at")
        return selectors.lot_search(user=self.request.user, params=params, base=base)


class LotReviewQueueApi(ListAPIView):
    serializer_class = LotSerializer

    @extend_schema(
        responses={200: LotSerializer(many=True), **error_responses(401, 403)},
        summary="Lots waiting for the cooperative's review, oldest first",
    )
    def get(self, request, *args, **kwargs):
        require_cooperative_admin(request.user)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.review_queue()


class LotDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: LotSerializer, **error_responses(404)}, summary="A lot")
    def get(self, request, lot_id: int):
        lot = selectors.lot_for(request.user, lot_id)
        if lot is None:
            raise not_found(_("No such lot."))
        return Response(LotSerializer(lot, context={"request": request}).data)

    @extend_schema(
        request=LotInputSerializer,
        responses={200: LotSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Edit a draft or rejected lot",
    )
    def patch(self, request, lot_id: int):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        data = LotInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.lot_update(actor=request.user, lot_id=lot_id, **data.validated_data)
        return _lot_response(request, lot_id)


class LotDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class LotReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class LotSubmitApi(APIView):
    @extend_schema(
        request=None,
        responses={200: LotSerializer, **error_responses(401, 403, 404, 409)},
        summary="Submit for the cooperative's review",
    )
    def post(self, request, lot_id: int):
        services.lot_submit(actor=request.user, lot_id=lot_id)
        return _lot_response(request, lot_id)


class LotReviewApi(APIView):
    @extend_schema(
        request=LotDecisionSerializer,
        responses={200: LotSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Approve or reject (cooperative)",
    )
    def post(self, request, lot_id: int):
        require_cooperative_admin(request.user)
        data = LotDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.lot_review(actor=request.user, lot_id=lot_id, **data.validated_data)
        return _lot_response(request, lot_id)


class LotWithdrawApi(APIView):
    @extend_schema(
        request=LotReasonSerializer,
        responses={200: LotSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Withdraw a lot (cooperative)",
    )
    def post(self, request, lot_id: int):
        require_cooperative_admin(request.user)
        data = LotReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.lot_withdraw(actor=request.user, lot_id=lot_id, **data.validated_data)
        return _lot_response(request, lot_id)


class PhotoUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class LotPhotosApi(APIView):
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(responses={200: PhotoSerializer(many=True), **error_responses(404)}, summary="A lot's photos")
    def get(self, request, lot_id: int):
        lot = selectors.lot_for(request.user, lot_id)
        if lot is None:
            raise not_found(_("No such lot."))
        return Response(PhotoSerializer(lot.photos.all(), many=True).data)

    @extend_schema(
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: PhotoSerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Add a photo (JPEG/PNG ≤ 10 MB; EXIF removed)",
    )
    def post(self, request, lot_id: int):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        data = PhotoUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        photo = services.lot_photo_add(actor=request.user, lot_id=lot_id, upload=data.validated_data["file"])
        return Response(PhotoSerializer(photo).data, status=status.HTTP_201_CREATED)


class LotPhotoDetailApi(APIView):
    @extend_schema(request=None, responses={204: None, **error_responses(401, 403, 404, 409)}, summary="Remove a photo")
    def delete(self, request, lot_id: int, photo_id: int):
        services.lot_photo_delete(actor=request.user, lot_id=lot_id, photo_id=photo_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Wanted requests ------------------------------------------------------------------


class WantedSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_name = serializers.CharField(source="category.__str__", read_only=True)
    company = CompanyRefSerializer(read_only=True)

    class Meta:
        model = WantedRequest
        fields = [
            "id",
            "company",
            "category",
            "category_name",
            "quantity_min",
            "quantity_max",
            "unit",
            "max_unit_price",
            "districts",
            "valid_until",
            "note",
            "status",
            "created_at",
        ]


class WantedInputSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.filter(active=True))
    quantity_min = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    quantity_max = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    unit = serializers.ChoiceField(choices=Unit.choices, required=False)
    max_unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    districts = serializers.ListField(child=serializers.ChoiceField(choices=District.choices), required=False)
    valid_until = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class WantedListApi(ListAPIView):
    serializer_class = WantedSerializer
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("category", str), OpenApiParameter("mine", bool)],
        summary="Open wanted requests (求购), newest first",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        user = self.request.user
        if params.get("mine") in ("1", "true") and user.is_authenticated and user.company_id:
            return (
                WantedRequest.objects.filter(company_id=user.company_id)
                .select_related("company", "category", "category__parent")
                .order_by("-created_at", "-id")
            )
        return selectors.wanted_open(category=params.get("category"))

    @extend_schema(
        request=WantedInputSerializer,
        responses={201: WantedSerializer, **error_responses(400, 401, 403)},
        summary="Post a wanted request",
    )
    def post(self, request):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        data = WantedInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = services.wanted_create(actor=request.user, **data.validated_data)
        return Response(WantedSerializer(wanted).data, status=status.HTTP_201_CREATED)


class WantedCloseApi(APIView):
    @extend_schema(
        request=None,
        responses={200: WantedSerializer, **error_responses(401, 403, 404, 409)},
        summary="Close my wanted request",
    )
    def post(self, request, wanted_id: int):
        wanted = services.wanted_close(actor=request.user, wanted_id=wanted_id)
        return Response(WantedSerializer(wanted).data)


class MarketPricesApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "CategoryPrices",
            {
                "category": serializers.CharField(),
                "name": serializers.CharField(),
                "unit": serializers.CharField(),
                "median_30d": serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True),
                "lots_30d": serializers.IntegerField(),
                "weekly": serializers.ListField(child=serializers.DictField()),
            },
            many=True,
        ),
        summary="Clearing prices from awarded lots: 30-day median and weekly medians per category",
    )
    def get(self, request):
        return Response(
            [
                {
                    "category": item.category.code,
                    "name": item.category.name,
                    "unit": item.unit,
                    "median_30d": None if item.median_30d is None else f"{item.median_30d:.2f}",
                    "lots_30d": item.lots_30d,
                    "weekly": [{"week": week.isoformat(), "median": f"{median:.2f}"} for week, median in item.weekly],
                }
                for item in selectors.market_prices()
            ]
        )
