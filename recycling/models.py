"""The lots domain: the category catalogue, lots and their photos, wanted requests (求购)."""

import uuid
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.districts import District


class Unit(models.TextChoices):
    TONNE = "t", _("t")
    KILOGRAM = "kg", _("kg")
    PIECE = "piece", _("piece")


class Category(models.Model):
    """A class of the national renewable-resources catalogue, or one of its trade grades.

    Top-level classes (废钢铁, 废纸 …) have no parent; grades (重废, 黄板纸 …) point to theirs.
    `hazardous` marks classes that may only be awarded to a processor whose licence covers them.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), on_delete=models.PROTECT, null=True, blank=True, related_name="grades"
    )
    unit = models.CharField(_("default unit"), max_length=8, choices=Unit.choices, default=Unit.TONNE)
    hazardous = models.BooleanField(_("hazardous / licence required"), default=False)
    sort = models.PositiveSmallIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} · {self.name}" if self.parent_id else self.name

    @property
    def licence_required(self) -> bool:
        return self.hazardous or bool(self.parent_id and self.parent.hazardous)


def format_quantity(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class Lot(models.Model):
    """A lot of recyclables offered by a collector. Status moves only through recycling.services
    (listing and moderation) and auctions.services (opening, bidding, closing)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PENDING_REVIEW = "pending_review", _("pending review")
        REJECTED = "rejected", _("rejected")
        SCHEDULED = "scheduled", _("scheduled")
        LIVE = "live", _("live")
        AWARDED = "awarded", _("awarded")
        UNSOLD = "unsold", _("unsold")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class Format(models.TextChoices):
        ENGLISH = "english", _("open ascending (English)")
        SEALED = "sealed", _("sealed bid, first price")

    PUBLISHED = (Status.SCHEDULED, Status.LIVE, Status.AWARDED, Status.UNSOLD)
    EDITABLE = (Status.DRAFT, Status.REJECTED)

    code = models.CharField(_("code"), max_length=20, unique=True, null=True, blank=True)
    seller = models.ForeignKey(
        "accounts.Company", verbose_name=_("seller"), on_delete=models.PROTECT, related_name="lots"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=120)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="lots")
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices)
    description = models.TextField(_("description"), blank=True)
    district = models.CharField(_("district"), max_length=16, choices=District.choices)
    address = models.CharField(_("address"), max_length=200)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices, default=Format.ENGLISH)
    start_price = models.DecimalField(_("start price per unit"), max_digits=12, decimal_places=2)
    reserve_price = models.DecimalField(
        _("reserve price per unit"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    bid_increment = models.DecimalField(
        _("bid increment"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty: the default ladder by price applies."),
    )
    deposit = models.DecimalField(_("deposit"), max_digits=12, decimal_places=2, default=Decimal("0.00"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    scheduled_end = models.DateTimeField(_("scheduled end"), help_text=_("ends_at before any soft-close extension"))
    soft_close_seconds = models.PositiveIntegerField(_("soft close (seconds)"), default=300)
    max_extension_seconds = models.PositiveIntegerField(_("maximum extension (seconds)"), default=3600)
    min_bidders = models.PositiveSmallIntegerField(_("minimum distinct bidders"), default=1)
    pickup_from = models.DateTimeField(_("pickup from"))
    pickup_until = models.DateTimeField(_("pickup until"))
    seller_delivers = models.BooleanField(_("seller delivers"), default=False)

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    review_reason = models.TextField(_("reason of the last review"), blank=True)
    contact_warning = models.CharField(_("off-platform contact warning"), max_length=300, blank=True)
    current_price = models.DecimalField(_("current price"), max_digits=12, decimal_places=2, null=True, blank=True)
    bid_count = models.PositiveIntegerField(_("bids"), default=0)
    seq = models.PositiveIntegerField(_("event number"), default=0)
    ledger_head = models.CharField(_("ledger head"), max_length=64, blank=True, editable=False)
    winner = models.ForeignKey(
        "accounts.Company",
        verbose_name=_("winner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="won_lots",
    )
    final_price = models.DecimalField(_("final price per unit"), max_digits=12, decimal_places=2, null=True, blank=True)
    # Lower-cased title + description, what `q` searches (trigram-indexed on PostgreSQL).
    search_text = models.TextField(editable=False, default="")

    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="lot_quantity_positive"),
            models.CheckConstraint(condition=models.Q(start_price__gt=0), name="lot_start_price_positive"),
            models.CheckConstraint(condition=models.Q(deposit__gte=0), name="lot_deposit_not_negative"),
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="lot_ends_after_start"),
            models.CheckConstraint(
                condition=models.Q(reserve_price__isnull=True) | models.Q(reserve_price__gte=models.F("start_price")),
                name="lot_reserve_at_least_start",
            ),
            models.CheckConstraint(
                condition=models.Q(bid_increment__isnull=True) | models.Q(bid_increment__gt=0),
                name="lot_increment_positive",
            ),
            models.CheckConstraint(condition=models.Q(min_bidders__gte=1), name="lot_min_bidders_positive"),
            models.CheckConstraint(
                condition=models.Q(pickup_until__gt=models.F("pickup_from")), name="lot_pickup_window_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[
                        "draft",
                        "pending_review",
                        "rejected",
                        "scheduled",
                        "live",
                        "awarded",
                        "unsold",
                        "withdrawn",
                    ]
                ),
                name="lot_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "ends_at"], name="lot_status_ends"),
            models.Index(fields=["status", "-created_at"], name="lot_status_created"),
            models.Index(fields=["status", "category", "ends_at"], name="lot_status_category_ends"),
            models.Index(fields=["status", "district", "ends_at"], name="lot_status_district_ends"),
            models.Index(fields=["seller", "status"], name="lot_seller_status"),
            # The home board: newest live lots and the next scheduled ones.
            models.Index(fields=["status", "-published_at", "-id"], name="lot_status_published"),
            models.Index(fields=["status", "starts_at", "id"], name="lot_status_starts"),
        ]

    def __str__(self) -> str:
        return f"{self.code or '#' + str(self.pk)} {self.title}"

    @property
    def is_published(self) -> bool:
        return self.status in self.PUBLISHED

    @property
    def quantity_display(self) -> str:
        """10.000 → "10", 2.500 → "2.5" (never an exponent)."""
        return format_quantity(self.quantity)

    @property
    def reserve_met(self) -> bool:
        if self.reserve_price is None:
            return True
        return self.current_price is not None and self.current_price >= self.reserve_price


def _photo_path(instance: "LotPhoto", filename: str) -> str:
    return f"lots/{instance.lot_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class LotPhoto(models.Model):
    """A photo, re-encoded on upload (EXIF and its GPS position stripped) with a thumbnail."""

    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("image"), upload_to=_photo_path)
    thumbnail = models.ImageField(_("thumbnail"), upload_to=_photo_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("lot photo")
        verbose_name_plural = _("lot photos")
        ordering = ["lot", "position", "id"]

    def __str__(self) -> str:
        return f"{self.lot_id} · {self.position}"


class WantedRequest(models.Model):
    """A processor's standing request to buy (求购)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    company = models.ForeignKey(
        "accounts.Company", verbose_name=_("processor"), on_delete=models.PROTECT, related_name="wanted_requests"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category or grade"), on_delete=models.PROTECT, related_name="+"
    )
    quantity_min = models.DecimalField(_("minimum quantity"), max_digits=12, decimal_places=3, null=True, blank=True)
    quantity_max = models.DecimalField(_("maximum quantity"), max_digits=12, decimal_places=3, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices)
    max_unit_price = models.DecimalField(
        _("maximum unit price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    districts = models.JSONField(_("districts"), default=list, blank=True, help_text=_("Empty: anywhere."))
    valid_until = models.DateField(_("valid until"))
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("wanted request")
        verbose_name_plural = _("wanted requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "valid_until"], name="wanted_status_valid")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_min__isnull=True)
                | models.Q(quantity_max__isnull=True)
                | models.Q(quantity_max__gte=models.F("quantity_min")),
                name="wanted_quantity_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} · {self.category}"


class WantedMatch(models.Model):
    """A published lot matched a processor's wanted request: notified once per (lot, company)."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")
    wanted = models.ForeignKey(WantedRequest, on_delete=models.CASCADE, related_name="matches")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("wanted-request match")
        verbose_name_plural = _("wanted-request matches")
        constraints = [models.UniqueConstraint(fields=["lot", "company"], name="wanted_match_once_per_lot")]

    def __str__(self) -> str:
        return f"{self.lot_id} → {self.company_id}"
