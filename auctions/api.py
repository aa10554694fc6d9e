"""Bids and the lot ledger over the API (shared/API.md, Bids)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from auctions import selectors, services
from auctions.models import LotEvent
from core.drf import error_responses
from core.errors import invalid, not_found
from core.times import iso
from recycling.models import Lot
from recycling.selectors import lot_for


class BidInputSerializer(serializers.Serializer):
    # Strings or numbers; bid_place checks them (a malformed amount is 400 invalid_amount).
    amount = serializers.CharField(max_length=32)
    max_amount = serializers.CharField(max_length=32, required=False, allow_null=True, allow_blank=True)


class BidRowSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    bidder = serializers.CharField()
    proxy = serializers.BooleanField()
    created_at = serializers.DateTimeField()


BID_CREATED = inline_serializer(
    "BidCreated",
    {
        "id": serializers.IntegerField(),
        "amount": serializers.DecimalField(max_digits=12, decimal_places=2),
        "seq": serializers.IntegerField(),
        "created_at": serializers.DateTimeField(),
        "leading": serializers.BooleanField(),
        "lot": inline_serializer(
            "BidLotState",
            {
                "current_price": serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True),
                "ends_at": serializers.DateTimeField(),
                "bid_count": serializers.IntegerField(),
                "seq": serializers.IntegerField(),
            },
        ),
    },
)


def _visible_lot(request, lot_id: int) -> Lot:
    lot = lot_for(request.user, lot_id)
    if lot is None:
        raise not_found(_("No such lot."))
    return lot


def bid_result_body(result: services.BidResult) -> dict:
    lot, bid = result.lot, result.bid
    sealed = lot.format == Lot.Format.SEALED
    return {
        "id": bid.pk,
        "amount": f"{bid.amount:.2f}",
        "seq": bid.seq,
        "created_at": iso(bid.created_at),
        "leading": result.leading if not sealed else None,
        "lot": {
            "current_price": None if lot.current_price is None else f"{lot.current_price:.2f}",
            "ends_at": iso(lot.ends_at),
            "bid_count": lot.bid_count,
            "seq": lot.seq,
        },
    }


class LotBidsApi(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "bids"

    def get_throttles(self):
        # Only placing bids is rate-limited per user; reading the history is not.
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(
        responses={200: BidRowSerializer(many=True), **error_responses(404)},
        summary="Bids, newest first (aliases; sealed amounts hidden)",
    )
    def get(self, request, lot_id: int):
        lot = _visible_lot(request, lot_id)
        rows = selectors.bid_history(lot=lot, viewer=request.user)
        return Response([{**row, "created_at": iso(row["created_at"])} for row in rows])

    @extend_schema(
        request=BidInputSerializer,
        responses={201: BID_CREATED, **error_responses(400, 401, 403, 404, 409, 429)},
        summary="Place a bid (verified processors)",
    )
    def post(self, request, lot_id: int):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        # No pre-read of the lot: bid_place answers 404 for a lot that is not on the board.
        data = BidInputSerializer(data=request.data)
        if not data.is_valid():  # missing, not a string or number, too long: the contract's code
            raise invalid(
                "invalid_amount",
                _("Give the amount as a number like 2350.00."),
                **{name: " ".join(map(str, errors)) for name, errors in data.errors.items()},
            )
        result = services.bid_place(
            actor=request.user,
            lot_id=lot_id,
            amount=data.validated_data["amount"],
            max_amount=data.validated_data.get("max_amount"),
        )
        return Response(bid_result_body(result), status=status.HTTP_201_CREATED)


class LedgerApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "LedgerEvent",
            {
                "seq": serializers.IntegerField(),
                "type": serializers.ChoiceField(choices=LotEvent.Type.choices),
                "at": serializers.DateTimeField(),
                "payload": serializers.DictField(),
                "prev_hash": serializers.CharField(),
                "hash": serializers.CharField(),
            },
            many=True,
        ),
        summary="The lot's tamper-evident event log (sha256 chain over canonical JSON)",
    )
    def get(self, request, lot_id: int):
        lot = _visible_lot(request, lot_id)
        return Response(selectors.ledger(lot=lot, viewer=request.user))
