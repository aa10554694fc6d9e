"""Logistics (物流服务): carriers' fleets, quotes, pickup bookings, their timeline, weighbridge
tickets and inspection deductions. Every write goes through logistics.services."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ZERO_QTY = Decimal("0.000")


class Vehicle(models.Model):
    """A carrier's vehicle. `districts` are the districts it picks up in (core.districts)."""

    class Type(models.TextChoices):
        VAN = "van", _("van")
        TRUCK_4_2 = "truck_4_2", _("4.2 m truck")
        TRUCK_6_8 = "truck_6_8", _("6.8 m truck")
        TRUCK_9_6 = "truck_9_6", _("9.6 m truck")
        TRUCK_13 = "truck_13", _("13 m truck")
        ROLL_OFF = "roll_off", _("roll-off")
        TANKER = "tanker", _("tanker")

    carrier = models.ForeignKey(
        "accounts.Company", verbose_name=_("carrier"), on_delete=models.PROTECT, related_name="vehicles"
    )
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    capacity_t = models.DecimalField(_("capacity (t)"), max_digits=6, decimal_places=2)
    plate = models.CharField(_("plate number"), max_length=12, unique=True)
    hazardous_permit_until = models.DateField(_("hazardous-goods permit valid until"), null=True, blank=True)
    districts = models.JSONField(_("service districts"), default=list)
    rate_per_km = models.DecimalField(_("rate per km"), max_digits=8, decimal_places=2)
    min_charge = models.DecimalField(_("minimum charge"), max_digits=10, decimal_places=2, default=Decimal("0.00"))
    active = models.BooleanField(_("in service"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["carrier", "type", "plate"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity_t__gt=0), name="vehicle_capacity_positive"),
            models.CheckConstraint(condition=Q(rate_per_km__gt=0), name="vehicle_rate_positive"),
            models.CheckConstraint(condition=Q(min_charge__gte=0), name="vehicle_min_charge_not_negative"),
            models.CheckConstraint(
                condition=Q(type__in=["van", "truck_4_2", "truck_6_8", "truck_9_6", "truck_13", "roll_off", "tanker"]),
                name="vehicle_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plate} · {self.get_type_display()}"

    def permit_valid_on(self, day) -> bool:
        return self.hazardous_permit_until is not None and self.hazardous_permit_until >= day


class Quote(models.Model):
    """A carrier's price for one lot, slot and destination, fixed until `expires_at`. Booking
    by `quote_id` takes exactly this price; `loads` says which vehicles run how many trips."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lot = models.ForeignKey("recycling.Lot", verbose_name=_("lot"), on_delete=models.CASCADE, related_name="+")
    requester = models.ForeignKey(
        "accounts.Company", verbose_name=_("requester"), on_delete=models.CASCADE, related_name="+"
    )
    carrier = models.ForeignKey(
        "accounts.Company", verbose_name=_("carrier"), on_delete=models.CASCADE, related_name="+"
    )
    vehicle_type = models.CharField(_("vehicle type"), max_length=16, choices=Vehicle.Type.choices)
    # [{"vehicle": id, "trips": n, "rate_per_km": "…", "min_charge": "…"}]
    loads = models.JSONField(_("vehicles and trips"), default=list)
    trips = models.PositiveSmallIntegerField(_("trips"))
    quantity_t = models.DecimalField(_("quantity (t)"), max_digits=12, decimal_places=3)
    distance_km = models.DecimalField(_("road distance (km)"), max_digits=7, decimal_places=1)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    slot_start = models.DateTimeField(_("slot start"))
    slot_end = models.DateTimeField(_("slot end"))
    deliver_lat = models.DecimalField(_("delivery latitude"), max_digits=9, decimal_places=6)
    deliver_lng = models.DecimalField(_("delivery longitude"), max_digits=9, decimal_places=6)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["price", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="quote_price_not_negative"),
            models.CheckConstraint(condition=Q(trips__gte=1), name="quote_trips_positive"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="quote_expires")]

    def __str__(self) -> str:
        return f"{self.lot_id} · {self.carrier_id} · {self.price}"


class Booking(models.Model):
    """A pickup of an awarded lot by a carrier, from the lot's place to the processor's yard."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        PICKED_UP = "picked_up", _("picked up")
        IN_TRANSIT = "in_transit", _("in transit")
        DELIVERED = "delivered", _("delivered")
        WEIGHED = "weighed", _("weighed")
        CANCELLED = "cancelled", _("cancelled")

    # The carrier's steps, in this order (shared/API.md: advance).
    ROAD = (Status.PICKED_UP, Status.IN_TRANSIT, Status.DELIVERED)
    CLOSED = (Status.DECLINED, Status.CANCELLED)
    # Statuses that hold the vehicles for the slot (and the lot for this booking).
    ACTIVE = (
        Status.REQUESTED,
        Status.ACCEPTED,
        Status.PICKED_UP,
        Status.IN_TRANSIT,
        Status.DELIVERED,
        Status.WEIGHED,
    )

    lot = models.ForeignKey("recycling.Lot", verbose_name=_("lot"), on_delete=models.PROTECT, related_name="bookings")
    quote = models.OneToOneField(Quote, verbose_name=_("quote"), on_delete=models.PROTECT, related_name="booking")
    requester = models.ForeignKey(
        "accounts.Company", verbose_name=_("requester"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    carrier = models.ForeignKey(
        "accounts.Company", verbose_name=_("carrier"), on_delete=models.PROTECT, related_name="carrier_bookings"
    )
    receiver = models.ForeignKey(
        "accounts.Company", verbose_name=_("receiving processor"), on_delete=models.PROTECT, related_name="+"
    )
    vehicle_type = models.CharField(_("vehicle type"), max_length=16, choices=Vehicle.Type.choices)
    vehicles = models.ManyToManyField(Vehicle, through="BookingVehicle", related_name="bookings")
    trips = models.PositiveSmallIntegerField(_("trips"))
    quantity_t = models.DecimalField(_("quantity (t)"), max_digits=12, decimal_places=3)
    distance_km = models.DecimalField(_("road distance (km)"), max_digits=7, decimal_places=1)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    slot_start = models.DateTimeField(_("slot start"))
    slot_end = models.DateTimeField(_("slot end"))
    pickup_lat = models.DecimalField(_("pickup latitude"), max_digits=9, decimal_places=6)
    pickup_lng = models.DecimalField(_("pickup longitude"), max_digits=9, decimal_places=6)
    deliver_address = models.CharField(_("delivery address"), max_length=200)
    deliver_lat = models.DecimalField(_("delivery latitude"), max_digits=9, decimal_places=6)
    deliver_lng = models.DecimalField(_("delivery longitude"), max_digits=9, decimal_places=6)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REQUESTED)
    status_reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lot"], condition=~Q(status__in=["declined", "cancelled"]), name="booking_one_active_per_lot"
            ),
            models.CheckConstraint(condition=Q(slot_end__gt=models.F("slot_start")), name="booking_slot_ordered"),
            models.CheckConstraint(condition=Q(price__gte=0), name="booking_price_not_negative"),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "requested",
                        "accepted",
                        "declined",
                        "picked_up",
                        "in_transit",
                        "delivered",
                        "weighed",
                        "cancelled",
                    ]
                ),
                name="booking_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["carrier", "status", "slot_start"], name="booking_carrier_status_slot"),
            models.Index(fields=["lot", "status"], name="booking_lot_status"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.lot_id} · {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class BookingVehicle(models.Model):
    """A vehicle held by a booking for its slot (copied here so overlaps are one query)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="assignments")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="assignments")
    trips = models.PositiveSmallIntegerField(_("trips"), default=1)
    slot_start = models.DateTimeField(_("slot start"))
    slot_end = models.DateTimeField(_("slot end"))
    released = models.BooleanField(_("released"), default=False)

    class Meta:
        verbose_name = _("vehicle assignment")
        verbose_name_plural = _("vehicle assignments")
        constraints = [models.UniqueConstraint(fields=["booking", "vehicle"], name="booking_vehicle_once")]
        indexes = [models.Index(fields=["vehicle", "released", "slot_start"], name="assignment_vehicle_slot")]

    def __str__(self) -> str:
        return f"{self.booking_id} · {self.vehicle_id}"


def _photo_path(instance: models.Model, filename: str) -> str:
    return f"private/logistics/{uuid.uuid4().hex}.jpg"


class BookingStep(models.Model):
    """One timestamped step of a booking's timeline (who, when, where, a photo)."""

    booking = models.ForeignKey(Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="steps")
    status = models.CharField(_("status"), max_length=16)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    company = models.ForeignKey(
        "accounts.Company",
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    photo = models.ImageField(_("photo"), upload_to=_photo_path, blank=True)
    note = models.TextField(_("note"), blank=True)
    event_seq = models.PositiveIntegerField(_("lot event number"), null=True, blank=True)

    class Meta:
        verbose_name = _("booking step")
        verbose_name_plural = _("booking steps")
        ordering = ["booking", "at", "id"]

    def __str__(self) -> str:
        return f"{self.booking_id} · {self.status}"


class Weighing(models.Model):
    """The processor's weighbridge ticket (过磅单) and what became of it.

    Weights are in the lot's unit. A net weight off the listed quantity by more than the
    tolerance goes to the cooperative (`review`); otherwise the seller has a window to dispute
    (`open`). The agreed net payable (net − deductions, or the admin's decision) settles."""

    class Status(models.TextChoices):
        OPEN = "open", _("open for dispute")
        REVIEW = "review", _("cooperative review")
        DISPUTED = "disputed", _("disputed")
        AGREED = "agreed", _("agreed")

    booking = models.OneToOneField(
        Booking, verbose_name=_("booking"), on_delete=models.PROTECT, related_name="weighing"
    )
    ticket_no = models.CharField(_("ticket number"), max_length=40)
    gross = models.DecimalField(_("gross"), max_digits=12, decimal_places=3)
    tare = models.DecimalField(_("tare"), max_digits=12, decimal_places=3)
    net = models.DecimalField(_("net"), max_digits=12, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=8)
    photo = models.ImageField(_("ticket photo"), upload_to=_photo_path, blank=True)
    listed_quantity = models.DecimalField(_("listed quantity"), max_digits=12, decimal_places=3)
    # |net − listed| ÷ listed. The services keep net ≤ 10 × listed (deviation ≤ 9), but the
    # column holds any ratio of the weight columns (net < 10⁹ over listed ≥ 0.001 is < 10¹²): a
    # value it cannot hold would be refused by PostgreSQL and stored unreadable by SQLite.
    deviation = models.DecimalField(_("deviation from the listing"), max_digits=16, decimal_places=4)
    tolerance = models.DecimalField(_("tolerance"), max_digits=5, decimal_places=4)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    dispute_until = models.DateTimeField(_("seller may dispute until"))
    dispute_reason = models.TextField(_("seller's dispute"), blank=True)
    disputed_at = models.DateTimeField(_("disputed at"), null=True, blank=True)
    decision_reason = models.TextField(_("the cooperative's decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    net_payable = models.DecimalField(_("net payable"), max_digits=12, decimal_places=3, null=True, blank=True)
    agreed_at = models.DateTimeField(_("agreed at"), null=True, blank=True)
    agreed_how = models.CharField(_("agreed how"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("weighing")
        verbose_name_plural = _("weighings")
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(tare__gte=0) & Q(net__gt=0), name="weighing_weights_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "review", "disputed", "agreed"]), name="weighing_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(net_payable__isnull=True) | Q(net_payable__gte=0), name="weighing_payable_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["status", "dispute_until"], name="weighing_status_until")]

    def __str__(self) -> str:
        return f"{self.ticket_no} · {self.net}"

    @property
    def deductions_total(self) -> Decimal:
        return sum((d.quantity for d in self.deductions.all()), ZERO_QTY)

    @property
    def provisional_payable(self) -> Decimal:
        return max(self.net - self.deductions_total, ZERO_QTY)


class Deduction(models.Model):
    """An inspection deduction (扣杂 impurities, 扣水 moisture …) from the net weight."""

    class Kind(models.TextChoices):
        IMPURITIES = "impurities", _("impurities")
        MOISTURE = "moisture", _("moisture")
        OTHER = "other", _("other")

    weighing = models.ForeignKey(
        Weighing, verbose_name=_("weighing"), on_delete=models.CASCADE, related_name="deductions"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    percent = models.DecimalField(_("percent of net"), max_digits=5, decimal_places=2, null=True, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    note = models.CharField(_("note"), max_length=200, blank=True)
    photo = models.ImageField(_("photo"), upload_to=_photo_path, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("deduction")
        verbose_name_plural = _("deductions")
        ordering = ["weighing", "created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="deduction_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity}"
