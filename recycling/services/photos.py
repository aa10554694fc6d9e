"""A lot's photos: lot_photo_add (checked by content, re-encoded without EXIF, with a
thumbnail) and lot_photo_delete."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import conflict, invalid, not_found
from core.files import JPEG, PNG, sniff
from recycling.models import Lot, LotPhoto
from recycling.services.common import _own_lot

MAX_PHOTOS = 8
PHOTO_MAX_SIDE = 2000
THUMB_SIDE = 400


def _reencode(upload: Any) -> tuple[bytes, bytes, tuple[int, int]]:
    """Decode, apply the EXIF orientation, and write fresh JPEGs: no EXIF (no GPS) survives."""
    upload.seek(0)
    try:
        with Image.open(io.BytesIO(upload.read())) as source:
            source.load()
            image = ImageOps.exif_transpose(source)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise invalid("invalid_image", _("The image could not be read."), file=str(exc)) from exc
    image = image.convert("RGB")
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    big = io.BytesIO()
    image.save(big, "JPEG", quality=85, optimize=True)
    size = image.size
    image.thumbnail((THUMB_SIDE, THUMB_SIDE))
    small = io.BytesIO()
    image.save(small, "JPEG", quality=80, optimize=True)
    return big.getvalue(), small.getvalue(), size


@transaction.atomic
def lot_photo_add(*, actor: Any, lot_id: int, upload: Any) -> LotPhoto:
    """Up to 8 photos per lot: JPEG or PNG by content, ≤ 10 MB, re-encoded, with a thumbnail."""
    from django.conf import settings

    lot = _own_lot(actor, lot_id)
    if lot.status not in Lot.EDITABLE:
        raise conflict("not_editable", _("Photos can only change while the lot is a draft or rejected."))
    if upload.size > settings.MAX_UPLOAD_BYTES:
        raise invalid("file_too_large", _("The photo is larger than 10 MB."), file=_("File too large."))
    upload.seek(0)
    if sniff(upload.read(16)) not in (JPEG, PNG):
        raise invalid("invalid_image", _("Only JPEG or PNG photos are accepted."), file=_("Not a JPEG or PNG image."))
    count = lot.photos.count()
    if count >= MAX_PHOTOS:
        raise conflict("too_many_photos", _("A lot has at most %(n)d photos.") % {"n": MAX_PHOTOS})
    big, small, (width, height) = _reencode(upload)
    position = (lot.photos.aggregate(top=Max("position"))["top"] or 0) + 1
    photo = LotPhoto(lot=lot, position=position, width=width, height=height)
    photo.image.save("photo.jpg", ContentFile(big), save=False)
    photo.thumbnail.save("thumb.jpg", ContentFile(small), save=False)
    photo.save()
    return photo


@transaction.atomic
def lot_photo_delete(*, actor: Any, lot_id: int, photo_id: int) -> None:
    lot = _own_lot(actor, lot_id)
    if lot.status not in Lot.EDITABLE:
        raise conflict("not_editable", _("Photos can only change while the lot is a draft or rejected."))
    photo = lot.photos.filter(pk=photo_id).first()
    if photo is None:
        raise not_found(_("No such photo."))
    files = [photo.image, photo.thumbnail]
    photo.delete()
    transaction.on_commit(lambda: [f.storage.delete(f.name) for f in files if f.name])
