"""Constants and small helpers shared by the logistics services: numbers and coordinates
checked on input, photos re-encoded without EXIF, a lot's tonnage and pickup point, who is
told, and a booking's page."""

from __future__ import annotations

import io
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import User
from core.errors import invalid
from core.files import JPEG, PNG, validate_document
from logistics import geo
from logistics.models import Booking
from recycling.models import Lot, Unit
from recycling.services import HEILONGJIANG

EVENT_TYPE = "logistics"
CENT = Decimal("0.01")
GRAM = Decimal("0.001")
RATIO = Decimal("0.0001")
PHOTO_MAX_SIDE = 1600
# Mainland plates: province character, issuing-office letter, 5 characters (6 for new-energy
# vehicles); 挂 ends a trailer's plate. Stored upper-case without spaces or the dot.
PLATE_RE = re.compile(r"^[\u4e00-\u9fff][A-Z][A-Z0-9]{4,5}[A-Z0-9\u6302]$")
Status = Booking.Status


def _decimal(value: Any, *, field: str, places: Decimal, code: str = "validation_error") -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise invalid(code, _("Not a number."), **{field: _("Not a number.")}) from None
    if not number.is_finite() or number >= Decimal("1e9") or number <= Decimal("-1e9"):
        raise invalid(code, _("Not a number."), **{field: _("Not a number.")})
    if number != number.quantize(places, rounding=ROUND_HALF_UP):
        raise invalid(code, _("Too many decimal places."), **{field: _("Too many decimal places.")})
    return number.quantize(places)


def _coordinates(
    lat: Any, lng: Any, *, field: str = "latitude", required: bool = True
) -> tuple[Decimal, Decimal] | None:
    if lat in (None, "") and lng in (None, ""):
        if required:
            raise invalid("validation_error", _("Give the coordinates."), **{field: _("Required.")})
        return None
    if lat in (None, "") or lng in (None, ""):
        raise invalid(
            "validation_error", _("Give both latitude and longitude, or neither."), **{field: _("Incomplete.")}
        )
    try:
        lat_d = Decimal(str(lat)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        lng_d = Decimal(str(lng)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        raise invalid("validation_error", _("Not a number."), **{field: _("Not a number.")}) from None
    if not (
        HEILONGJIANG["lat"][0] <= lat_d <= HEILONGJIANG["lat"][1]
        and HEILONGJIANG["lng"][0] <= lng_d <= HEILONGJIANG["lng"][1]
    ):
        raise invalid("outside_service_area", _("The coordinates lie outside Heilongjiang."), **{field: _("Outside.")})
    return lat_d, lng_d


def photo_file(upload: Any, *, field: str = "photo") -> ContentFile:
    """A JPEG or PNG by content, re-encoded as a fresh JPEG: no EXIF (no GPS, no phone model)."""
    validate_document(upload, field=field, allowed=(JPEG, PNG))
    upload.seek(0)
    try:
        with Image.open(io.BytesIO(upload.read())) as source:
            source.load()
            image = ImageOps.exif_transpose(source)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise invalid("invalid_image", _("The image could not be read."), **{field: _("Damaged image.")}) from exc
    image = image.convert("RGB")
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return ContentFile(out.getvalue(), name="photo.jpg")


def quantity_in_tonnes(lot: Lot) -> Decimal:
    """What a truck carries: kg ÷ 1000; a lot counted in pieces weighs LOGISTICS_PIECE_WEIGHT_T each."""
    if lot.unit == Unit.KILOGRAM:
        return (lot.quantity / 1000).quantize(GRAM, rounding=ROUND_HALF_UP)
    if lot.unit == Unit.PIECE:
        return (lot.quantity * Decimal(str(settings.LOGISTICS_PIECE_WEIGHT_T))).quantize(GRAM, rounding=ROUND_HALF_UP)
    return lot.quantity


def pickup_point(lot: Lot) -> tuple[Decimal, Decimal]:
    """The lot's coordinates, or its district's centre when the seller gave none."""
    if lot.latitude is not None and lot.longitude is not None:
        return lot.latitude, lot.longitude
    lat, lng = geo.district_centre(lot.district)
    return Decimal(str(lat)), Decimal(str(lng))


def _users_of(*company_ids: int | None) -> list[User]:
    ids = [pk for pk in dict.fromkeys(company_ids) if pk]
    return list(User.objects.filter(company_id__in=ids, is_active=True))


def _admins() -> list[User]:
    return [user for user in User.objects.filter(is_active=True, company__isnull=True) if user.is_cooperative_admin]


def booking_url(booking: Booking) -> str:
    return reverse("logistics:booking_detail", args=[booking.pk])
