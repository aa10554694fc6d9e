"""Deposits and payments over the API (shared/API.md, "Deposits and payments"). Thin: parse,
call a service, render."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Company
from accounts.services import require_cooperative_admin, require_verified_company
from core.drf import error_responses, query_params
from core.errors import invalid, not_found
from payments import selectors, services
from payments.models import DepositHold, Payout, Settlement
from recycling.models import Lot
from recycling.selectors import lot_for

MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}


class CardSchema(serializers.Serializer):
    id = serializers.IntegerField()
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()


DepositSchema = inline_serializer(
    "Deposit",
    {
        "status": serializers.ChoiceField(choices=["none", *DepositHold.Status.values]),
        "amount": serializers.DecimalField(**MONEY),
        "payment_intent": serializers.CharField(allow_null=True),
        "can_bid": serializers.BooleanField(),
        "expires_at": serializers.DateTimeField(allow_null=True),
        "failure": serializers.CharField(allow_null=True),
        "registration_opens_at": serializers.DateTimeField(),
    },
)
SettlementSchema = inline_serializer(
    "Settlement",
    {
        "status": serializers.ChoiceField(choices=Settlement.Status.values),
        "unit_price": serializers.DecimalField(**MONEY, allow_null=True),
        "net_quantity": serializers.DecimalField(max_digits=12, decimal_places=3, allow_null=True),
        "unit": serializers.CharField(),
        "gross": serializers.DecimalField(**MONEY, allow_null=True),
        "buyer_fee": serializers.DecimalField(**MONEY, allow_null=True),
        "deposit_captured": serializers.DecimalField(**MONEY),
        "balance_due": serializers.DecimalField(**MONEY, allow_null=True),
        "balance_paid": serializers.DecimalField(**MONEY),
        "refunded": serializers.DecimalField(**MONEY),
        "seller_net": serializers.DecimalField(**MONEY, allow_null=True),
        "payment_due_at": serializers.DateTimeField(allow_null=True),
        "charge_status": serializers.CharField(),
    },
)
PaymentTermsSchema = inline_serializer(
    "LotPaymentTerms",
    {
        "deposit": serializers.DecimalField(**MONEY),
        "payment_days": serializers.IntegerField(),
        "payment_deadline": serializers.DateTimeField(allow_null=True),
        "pickup_deadline": serializers.DateTimeField(),
        "registration_opens_at": serializers.DateTimeField(),
        "registration_open": serializers.BooleanField(),
        "registration_window_days": serializers.IntegerField(),
        "buyer_fee_rate": serializers.DecimalField(max_digits=5, decimal_places=4),
    },
)
ClientConfirmSchema = inline_serializer(
    "SettlementPayment",
    {
        "settlement": SettlementSchema,
        "client_secret": serializers.CharField(allow_null=True),
        "payment_method": serializers.CharField(allow_null=True),
        "publishable_key": serializers.CharField(),
    },
)


class PayoutSchema(serializers.Serializer):
    id = serializers.IntegerField()
    company = inline_serializer("PayoutCompany", {"id": serializers.IntegerField(), "name": serializers.CharField()})
    lot = inline_serializer("PayoutLot", {"id": serializers.IntegerField(), "code": serializers.CharField()})
    kind = serializers.CharField(help_text="sale | forfeit_share")
    amount = serializers.DecimalField(**MONEY)
    status = serializers.CharField(help_text="due | paid")
    reference = serializers.CharField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)


class StrikeSchema(serializers.Serializer):
    id = serializers.IntegerField()
    company = inline_serializer("StrikeCompany", {"id": serializers.IntegerField(), "name": serializers.CharField()})
    lot = serializers.CharField(allow_null=True)
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    active = serializers.BooleanField()
    reversed_at = serializers.DateTimeField(allow_null=True)
    reversal_reason = serializers.CharField()
    company_banned_until = serializers.DateTimeField(allow_null=True)


class SetupConfirmSerializer(serializers.Serializer):
    setup_intent = serializers.RegexField(r"^seti_\w{1,60}\Z", max_length=64)


class WeightSerializer(serializers.Serializer):
    net_quantity = serializers.CharField(max_length=32)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True)


class ReferenceSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=100, allow_blank=True)


class RelistSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class TermsInputSerializer(serializers.Serializer):
    deposit = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)
    payment_days = serializers.IntegerField(required=False, min_value=1, max_value=60)


def _lot(request, lot_id: int) -> Lot:
    lot = lot_for(request.user, lot_id)
    if lot is None:
        raise not_found(_("No such lot."))
    return lot


# --- Cards ---------------------------------------------------------------------------------------


class CardListApi(APIView):
    @extend_schema(
        responses={200: CardSchema(many=True), **error_responses(401, 403)}, summary="The company's saved cards"
    )
    def get(self, request):
        company = require_verified_company(request.user, role=Company.Role.PROCESSOR)
        return Response([selectors.card_body(card) for card in selectors.cards_of(company.pk)])

    @extend_schema(
        request=SetupConfirmSerializer,
        responses={201: CardSchema, **error_responses(400, 401, 403, 404, 409)},
        summary="Record the card a confirmed SetupIntent saved",
    )
    def post(self, request):
        data = SetupConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card = services.card_setup_complete(actor=request.user, setup_intent_id=data.validated_data["setup_intent"])
        return Response(selectors.card_body(card), status=status.HTTP_201_CREATED)


class CardSetupApi(APIView):
    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "CardSetup",
                {
                    "setup_intent": serializers.CharField(),
                    "client_secret": serializers.CharField(),
                    "publishable_key": serializers.CharField(),
                },
            ),
            **error_responses(401, 403, 409),
        },
        summary="Start saving a card (SetupIntent, usage=off_session)",
    )
    def post(self, request):
        setup, client_secret = services.card_setup_start(actor=request.user)
        return Response(
            {
                "setup_intent": setup.stripe_setup_intent_id,
                "client_secret": client_secret,
                "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            }
        )


# --- Deposits ---------------------------------------------------------------------------------


class LotDepositApi(APIView):
    @extend_schema(
        responses={200: DepositSchema, **error_responses(401, 404)}, summary="Your company's deposit for this lot"
    )
    def get(self, request, lot_id: int):
        lot = _lot(request, lot_id)
        company = request.user.company if request.user.company_id else None
        hold = DepositHold.objects.filter(lot=lot, company=company).first() if company else None
        return Response(selectors.deposit_body(lot=lot, hold=hold))

    @extend_schema(
        request=None,
        responses={200: DepositSchema, **error_responses(401, 403, 404, 409)},
        summary="Register for the lot: hold the deposit on the saved card",
    )
    def post(self, request, lot_id: int):
        hold = services.deposit_register(actor=request.user, lot_id=lot_id)
        return Response(selectors.deposit_body(lot=Lot.objects.get(pk=lot_id), hold=hold))


class LotPaymentTermsApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: PaymentTermsSchema, **error_responses(404)}, summary="Deposit and payment terms of a lot"
    )
    def get(self, request, lot_id: int):
        return Response(selectors.lot_terms_body(_lot(request, lot_id)))

    @extend_schema(
        request=TermsInputSerializer,
        responses={200: PaymentTermsSchema, **error_responses(400, 401, 403, 404, 409)},
        summary="Adjust the deposit and payment deadline (cooperative admins)",
    )
    def patch(self, request, lot_id: int):
        require_cooperative_admin(request.user)
        data = TermsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lot = services.lot_payment_terms_set(actor=request.user, lot_id=lot_id, **data.validated_data)
        return Response(selectors.lot_terms_body(lot))


# --- Settlement --------------------------------------------------------------------------------


def _settlement_response(request, lot: Lot) -> Response:
    settlement = selectors.settlement_of(lot)
    return Response(selectors.settlement_body(lot=lot, settlement=settlement, viewer=request.user))


def _awarded_lot_for_settlement(request, lot_id: int) -> Lot:
    lot = _lot(request, lot_id)
    if lot.status != Lot.Status.AWARDED or not selectors.may_see_settlement(
        request.user, lot, selectors.settlement_of(lot)
    ):
        raise not_found(_("No settlement for this lot."))
    return lot


class LotSettlementApi(APIView):
    @extend_schema(
        responses={200: SettlementSchema, **error_responses(401, 404)},
        summary="The lot's settlement (its winner, its seller, cooperative admins)",
    )
    def get(self, request, lot_id: int):
        return _settlement_response(request, _awarded_lot_for_settlement(request, lot_id))


class LotSettlementWeightApi(APIView):
    @extend_schema(
        request=WeightSerializer,
        responses={200: SettlementSchema, **error_responses(400, 401, 403, 404, 409)},
        summary="Record the weighed net quantity (cooperative admins, until the logistics weighing)",
    )
    def post(self, request, lot_id: int):
        require_cooperative_admin(request.user)
        lot = _lot(request, lot_id)
        data = WeightSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.settlement_record_weight(
            actor=request.user,
            lot_id=lot.pk,
            net_quantity=data.validated_data["net_quantity"],
            reference=data.validated_data.get("reference", ""),
        )
        return _settlement_response(request, lot)


class LotSettlementPayApi(APIView):
    @extend_schema(
        request=None,
        responses={200: ClientConfirmSchema, **error_responses(401, 403, 404, 409)},
        summary="Pay the balance: retry the saved card, or get what the browser needs to authenticate",
    )
    def post(self, request, lot_id: int):
        lot = _lot(request, lot_id)
        settlement, client_secret, payment_method = services.settlement_pay(actor=request.user, lot_id=lot.pk)
        return Response(
            {
                "settlement": selectors.settlement_body(lot=lot, settlement=settlement, viewer=request.user),
                "client_secret": client_secret or None,
                "payment_method": payment_method or None,
                "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            }
        )


class LotSettlementDefaultApi(APIView):
    @extend_schema(
        request=ReasonSerializer,
        responses={200: SettlementSchema, **error_responses(400, 401, 403, 404, 409)},
        summary="Declare the buyer in default (cooperative admins)",
    )
    def post(self, request, lot_id: int):
        require_cooperative_admin(request.user)
        lot = _lot(request, lot_id)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"].strip()
        if not reason:
            raise invalid("reason_required", _("Give a reason."), reason=_("Required."))
        settlement = Settlement.objects.filter(lot=lot).exclude(status=Settlement.Status.DEFAULTED).first()
        if settlement is None:
            raise not_found(_("No open settlement for this lot."))
        services.settlement_default(settlement_id=settlement.pk, actor=request.user, reason=reason)
        return _settlement_response(request, lot)


class LotSettlementReofferApi(APIView):
    @extend_schema(
        request=None,
        responses={200: SettlementSchema, **error_responses(401, 403, 404, 409)},
        summary="Offer a defaulted lot to the runner-up (cooperative admins)",
    )
    def post(self, request, lot_id: int):
        require_cooperative_admin(request.user)
        lot = _lot(request, lot_id)
        services.settlement_reoffer(actor=request.user, lot_id=lot.pk)
        return _settlement_response(request, Lot.objects.get(pk=lot.pk))


class LotSettlementRelistApi(APIView):
    @extend_schema(
        request=RelistSerializer,
        responses={
            201: inline_serializer("Relisted", {"id": serializers.IntegerField(), "code": serializers.CharField()}),
            **error_responses(400, 401, 403, 404, 409),
        },
        summary="Re-list a defaulted lot as a new draft for its seller (cooperative admins)",
    )
    def post(self, request, lot_id: int):
        require_cooperative_admin(request.user)
        lot = _lot(request, lot_id)
        data = RelistSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = services.settlement_relist(actor=request.user, lot_id=lot.pk, **data.validated_data)
        return Response({"id": draft.pk, "code": draft.code}, status=status.HTTP_201_CREATED)


# --- Payouts and strikes (cooperative admins) -------------------------------------------------------


class PayoutListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=Payout.Status.values)],
        responses={200: PayoutSchema(many=True), **error_responses(400, 401, 403)},
        summary="Payouts due to and paid to sellers (cooperative admins)",
    )
    def get(self, request):
        require_cooperative_admin(request.user)
        wanted = query_params(request, "status")["status"]
        if wanted and wanted not in Payout.Status.values:
            raise invalid("validation_error", _("Unknown status."), status=_("Unknown status."))
        return Response([selectors.payout_body(p) for p in selectors.payouts(status=wanted)[:500]])


class PayoutPaidApi(APIView):
    @extend_schema(
        request=ReferenceSerializer,
        responses={200: PayoutSchema, **error_responses(400, 401, 403, 404, 409)},
        summary="Mark a payout paid, with the bank transfer's reference (cooperative admins)",
    )
    def post(self, request, payout_id: int):
        data = ReferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.payout_mark_paid(
            actor=request.user, payout_id=payout_id, reference=data.validated_data["reference"]
        )
        return Response(selectors.payout_body(payout))


class StrikeListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("company", int)],
        responses={200: StrikeSchema(many=True), **error_responses(400, 401, 403)},
        summary="Strikes against buyers that defaulted (cooperative admins)",
    )
    def get(self, request):
        require_cooperative_admin(request.user)
        company = query_params(request, "company")["company"]
        if company and not company.isdigit():
            raise invalid("validation_error", _("Not a company id."), company=_("Not a number."))
        qs = selectors.strikes(company_id=int(company) if company else None)
        return Response([selectors.strike_body(strike) for strike in qs[:500]])


class StrikeReverseApi(APIView):
    @extend_schema(
        request=ReasonSerializer,
        responses={200: StrikeSchema, **error_responses(400, 401, 403, 404, 409)},
        summary="Reverse a strike, with a reason (cooperative admins)",
    )
    def post(self, request, strike_id: int):
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        strike = services.strike_reverse(actor=request.user, strike_id=strike_id, reason=data.validated_data["reason"])
        return Response(selectors.strike_body(strike))


# --- Webhook -------------------------------------------------------------------------------------


class StripeWebhookApi(APIView):
    """Stripe's signed events only: no session, no token, no CSRF, no throttle; the raw body is
    what the signature covers."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: inline_serializer(
                "WebhookReceived", {"received": serializers.BooleanField(), "outcome": serializers.CharField()}
            ),
            **error_responses(400, 409),
        },
        summary="Stripe webhook endpoint (signed events only)",
    )
    def post(self, request):
        outcome = services.webhook_receive(payload=request.body, signature=request.META.get("HTTP_STRIPE_SIGNATURE"))
        return Response({"received": True, "outcome": outcome})
