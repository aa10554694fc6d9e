"""Deposits (保证金), settlement on the weighed quantity (多退少补), payouts, defaults and
strikes, and the records that make every Stripe call happen exactly once.

Rows carrying money change only through payments.services. Amounts are Decimal CNY here;
payments.stripe_client converts them to integer fen at Stripe's edge.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0.00")


class PaymentProfile(models.Model):
    """A company's Stripe customer (created when it first saves a card)."""

    company = models.OneToOneField(
        "accounts.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="payment_profile"
    )
    stripe_customer_id = models.CharField(_("Stripe customer"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment profile")
        verbose_name_plural = _("payment profiles")

    def __str__(self) -> str:
        return f"{self.company_id} · {self.stripe_customer_id or '—'}"


class SavedCard(models.Model):
    """A card saved for off-session use (SetupIntent usage=off_session). The newest one that is
    not removed is the one deposits and balances are charged to."""

    company = models.ForeignKey(
        "accounts.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="saved_cards"
    )
    stripe_payment_method_id = models.CharField(_("Stripe payment method"), max_length=64, unique=True)
    brand = models.CharField(_("brand"), max_length=24, blank=True)
    last4 = models.CharField(_("last four digits"), max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(_("expiry month"), default=0)
    exp_year = models.PositiveSmallIntegerField(_("expiry year"), default=0)
    created_at = models.DateTimeField(_("saved at"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("saved card")
        verbose_name_plural = _("saved cards")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.brand} ···· {self.last4}"


class CardSetup(models.Model):
    """One SetupIntent we created for a company: only these may become its saved cards."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        OPEN = "open", _("waiting for the browser")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    company = models.ForeignKey(
        "accounts.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    stripe_setup_intent_id = models.CharField(_("Stripe setup intent"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    card = models.ForeignKey(SavedCard, verbose_name=_("card"), on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("card setup")
        verbose_name_plural = _("card setups")
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_setup_intent_id"],
                condition=~Q(stripe_setup_intent_id=""),
                name="card_setup_unique_intent",
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_setup_intent_id or f"#{self.pk}"


class LotPaymentTerms(models.Model):
    """Per-lot payment terms beyond `Lot.deposit`: the payment deadline in days after the award
    (empty: settings.PAYMENT_DAYS). The pickup deadline is the lot's `pickup_until`."""

    lot = models.OneToOneField("recycling.Lot", verbose_name=_("lot"), on_delete=models.CASCADE, related_name="+")
    payment_days = models.PositiveSmallIntegerField(_("days to pay after the award"), null=True, blank=True)

    class Meta:
        verbose_name = _("lot payment terms")
        verbose_name_plural = _("lot payment terms")

    def __str__(self) -> str:
        return f"{self.lot_id}"


class DepositHold(models.Model):
    """A company's deposit for one lot: a manual-capture PaymentIntent on its saved card.

    `attempt` numbers the PaymentIntents of this hold (a renewal makes a new one); the
    idempotency keys of its Stripe calls carry it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("being placed")
        REQUIRES_ACTION = "requires_action", _("needs the bank's authentication")
        HELD = "held", _("held")
        FAILED = "failed", _("failed")
        RELEASED = "released", _("released")
        CAPTURED = "captured", _("captured")
        FORFEITED = "forfeited", _("forfeited")

    OPEN = (Status.PENDING, Status.REQUIRES_ACTION, Status.HELD)

    lot = models.ForeignKey("recycling.Lot", verbose_name=_("lot"), on_delete=models.PROTECT, related_name="+")
    company = models.ForeignKey(
        "accounts.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="deposit_holds"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    card = models.ForeignKey(SavedCard, verbose_name=_("card"), on_delete=models.PROTECT, null=True, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    stripe_payment_intent_id = models.CharField(_("Stripe payment intent"), max_length=64, blank=True, db_index=True)
    authorized_at = models.DateTimeField(_("authorised at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("authorisation expires at"), null=True, blank=True)
    captured_amount = models.DecimalField(_("captured"), max_digits=12, decimal_places=2, default=ZERO)
    failure_code = models.CharField(_("failure code"), max_length=64, blank=True)
    failure_message = models.CharField(_("failure message"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("deposit hold")
        verbose_name_plural = _("deposit holds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "company"], name="deposit_hold_once_per_lot"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposit_hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(captured_amount__gte=0) & Q(captured_amount__lte=models.F("amount")),
                name="deposit_hold_captured_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["pending", "requires_action", "held", "failed", "released", "captured", "forfeited"]
                ),
                name="deposit_hold_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="deposit_hold_status_expiry")]

    def __str__(self) -> str:
        return f"{self.lot_id} · {self.company_id} · {self.status}"


class Settlement(models.Model):
    """What the buyer of an awarded lot owes on the weighed quantity, and how it was paid.

    gross = unit price × net quantity; the buyer pays gross + buyer fee; the captured deposit
    counts towards it; the rest is charged (balance_due) or refunded (refund_due)."""

    class Status(models.TextChoices):
        AWAITING_WEIGHT = "awaiting_weight", _("awaiting the weighed quantity")
        AWAITING_PAYMENT = "awaiting_payment", _("awaiting payment")
        REFUND_PENDING = "refund_pending", _("refund pending")
        SETTLED = "settled", _("settled")
        DEFAULTED = "defaulted", _("defaulted")

    lot = models.ForeignKey("recycling.Lot", verbose_name=_("lot"), on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey("accounts.Company", verbose_name=_("buyer"), on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey("accounts.Company", verbose_name=_("seller"), on_delete=models.PROTECT, related_name="+")
    hold = models.ForeignKey(
        DepositHold, verbose_name=_("deposit"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.AWAITING_WEIGHT)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    net_quantity = models.DecimalField(_("net quantity"), max_digits=12, decimal_places=3, null=True, blank=True)
    weighing_ref = models.CharField(_("weighbridge ticket"), max_length=64, blank=True)
    buyer_fee_rate = models.DecimalField(_("buyer fee rate"), max_digits=5, decimal_places=4, default=ZERO)
    seller_fee_rate = models.DecimalField(_("seller fee rate"), max_digits=5, decimal_places=4, default=ZERO)
    gross = models.DecimalField(_("gross"), max_digits=14, decimal_places=2, null=True, blank=True)
    buyer_fee = models.DecimalField(_("buyer fee"), max_digits=14, decimal_places=2, null=True, blank=True)
    seller_fee = models.DecimalField(_("seller fee"), max_digits=14, decimal_places=2, null=True, blank=True)
    deposit_captured = models.DecimalField(_("deposit applied"), max_digits=14, decimal_places=2, default=ZERO)
    balance_due = models.DecimalField(_("balance to charge"), max_digits=14, decimal_places=2, default=ZERO)
    balance_paid = models.DecimalField(_("balance paid"), max_digits=14, decimal_places=2, default=ZERO)
    refund_due = models.DecimalField(_("refund due"), max_digits=14, decimal_places=2, default=ZERO)
    refunded = models.DecimalField(_("refunded"), max_digits=14, decimal_places=2, default=ZERO)
    seller_net = models.DecimalField(_("seller's net"), max_digits=14, decimal_places=2, null=True, blank=True)
    payment_due_at = models.DateTimeField(_("payment deadline"))
    charge_attempt = models.PositiveSmallIntegerField(_("balance charge attempt"), default=0)
    charge_intent_id = models.CharField(_("balance payment intent"), max_length=64, blank=True, db_index=True)
    charge_status = models.CharField(_("balance charge status"), max_length=24, blank=True)
    weight_recorded_at = models.DateTimeField(_("weight recorded at"), null=True, blank=True)
    weight_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("weight recorded by"), on_delete=models.PROTECT, null=True, blank=True
    )
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    defaulted_at = models.DateTimeField(_("defaulted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "buyer"], name="settlement_once_per_buyer"),
            models.UniqueConstraint(
                fields=["lot"], condition=~Q(status="defaulted"), name="settlement_one_open_per_lot"
            ),
            models.CheckConstraint(
                condition=Q(deposit_captured__gte=0)
                & Q(balance_due__gte=0)
                & Q(balance_paid__gte=0)
                & Q(refund_due__gte=0)
                & Q(refunded__gte=0),
                name="settlement_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["awaiting_weight", "awaiting_payment", "refund_pending", "settled", "defaulted"]
                ),
                name="settlement_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "payment_due_at"], name="settlement_status_due")]

    def __str__(self) -> str:
        return f"{self.lot_id} · {self.buyer_id} · {self.status}"

    @property
    def total_due(self) -> Decimal | None:
        if self.gross is None:
            return None
        return self.gross + (self.buyer_fee or ZERO)


class PaymentStep(models.Model):
    """One Stripe call we intend to make, recorded before it is made.

    `key` is the call's idempotency key, derived from our own rows and unique here: a step is
    recorded once and done once. A step left `pending` (Stripe down, a timeout, a crash) is
    picked up again by the clock's retry loop and by reconcile_payments."""

    class Kind(models.TextChoices):
        HOLD_CREATE = "hold_create", _("place a deposit hold")
        HOLD_CANCEL = "hold_cancel", _("release a deposit hold")
        HOLD_CAPTURE = "hold_capture", _("capture a deposit hold")
        CHARGE_CREATE = "charge_create", _("charge the balance")
        CHARGE_CANCEL = "charge_cancel", _("cancel an unpaid balance charge")
        REFUND_CREATE = "refund_create", _("refund a surplus")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    hold = models.ForeignKey(DepositHold, on_delete=models.PROTECT, null=True, blank=True, related_name="steps")
    settlement = models.ForeignKey(Settlement, on_delete=models.PROTECT, null=True, blank=True, related_name="steps")
    attempt = models.PositiveSmallIntegerField(_("attempt of the hold or charge"), default=1)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    payment_intent_id = models.CharField(_("payment intent acted on"), max_length=64, blank=True)
    result_id = models.CharField(_("Stripe object made"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=64, blank=True)
    attempts = models.PositiveIntegerField(_("calls made"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # A runner that claims the step owns it until then (a crashed runner's claim lapses).
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment step")
        verbose_name_plural = _("payment steps")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="payment_step_due")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="payment_step_amount_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.key} · {self.status}"


class LedgerEntry(models.Model):
    """The payments ledger: every hold, release, capture, charge, refund, fee, forfeit and
    payout, once each (`key` is unique: the Stripe object or our record it stands for)."""

    class Kind(models.TextChoices):
        HOLD = "hold", _("deposit held")
        RELEASE = "release", _("deposit released")
        CAPTURE = "capture", _("deposit captured")
        CHARGE = "charge", _("balance charged")
        REFUND = "refund", _("surplus refunded")
        BUYER_FEE = "buyer_fee", _("buyer fee")
        SELLER_FEE = "seller_fee", _("seller fee")
        FORFEIT = "forfeit", _("deposit forfeited")
        SELLER_CREDIT = "seller_credit", _("forfeit credited to the seller")
        PAYOUT_DUE = "payout_due", _("payout due")
        PAYOUT_PAID = "payout_paid", _("payout paid")

    key = models.CharField(_("key"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    lot = models.ForeignKey("recycling.Lot", verbose_name=_("lot"), on_delete=models.PROTECT, related_name="+")
    company = models.ForeignKey(
        "accounts.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    stripe_id = models.CharField(_("Stripe object"), max_length=64, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("payments ledger entry")
        verbose_name_plural = _("payments ledger")
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="ledger_amount_not_negative")]
        indexes = [models.Index(fields=["lot", "kind"], name="ledger_lot_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.key})"


class Payout(models.Model):
    """Money the cooperative owes a seller (its net on a sale, or its share of a forfeited
    deposit). Marked paid by a cooperative admin through payments.services.payout_mark_paid."""

    class Kind(models.TextChoices):
        SALE = "sale", _("sale proceeds")
        FORFEIT_SHARE = "forfeit_share", _("share of a forfeited deposit")

    class Status(models.TextChoices):
        DUE = "due", _("due")
        PAID = "paid", _("paid")

    company = models.ForeignKey(
        "accounts.Company", verbose_name=_("seller"), on_delete=models.PROTECT, related_name="+"
    )
    lot = models.ForeignKey("recycling.Lot", verbose_name=_("lot"), on_delete=models.PROTECT, related_name="+")
    settlement = models.ForeignKey(Settlement, verbose_name=_("settlement"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DUE)
    reference = models.CharField(_("bank transfer reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("due since"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("marked paid by"), on_delete=models.PROTECT, null=True, blank=True
    )

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "kind"], name="payout_once_per_settlement"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} · {self.amount} · {self.status}"


class StripeEvent(models.Model):
    """A webhook event, stored once (unique event id) in the transaction of its effect."""

    event_id = models.CharField(_("event id"), max_length=80, unique=True)
    type = models.CharField(_("type"), max_length=80)
    object_id = models.CharField(_("object"), max_length=80, blank=True)
    outcome = models.CharField(_("outcome"), max_length=120, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class Strike(models.Model):
    """A mark against a buyer that defaulted. Active strikes escalate to a bidding ban."""

    company = models.ForeignKey(
        "accounts.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="strikes"
    )
    lot = models.ForeignKey("recycling.Lot", verbose_name=_("lot"), on_delete=models.PROTECT, null=True, blank=True)
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("given at"), default=timezone.now)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reversed by"), on_delete=models.PROTECT, null=True, blank=True
    )
    reversal_reason = models.TextField(_("reason for reversing"), blank=True)

    class Meta:
        verbose_name = _("strike")
        verbose_name_plural = _("strikes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["company", "reversed_at", "created_at"], name="strike_company_active")]

    def __str__(self) -> str:
        return f"{self.company_id} · {self.created_at:%Y-%m-%d}"

    @property
    def is_active(self) -> bool:
        return self.reversed_at is None


class CompanyStanding(models.Model):
    """A company's bidding ban, recomputed from its strikes whenever one is given or reversed."""

    company = models.OneToOneField(
        "accounts.Company", verbose_name=_("company"), on_delete=models.CASCADE, related_name="payment_standing"
    )
    banned_until = models.DateTimeField(_("banned from bidding until"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("bidding standing")
        verbose_name_plural = _("bidding standings")

    def __str__(self) -> str:
        return f"{self.company_id} · {self.banned_until or '—'}"
