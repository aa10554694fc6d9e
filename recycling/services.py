"""Every write of the lots domain: listing, editing, photos, moderation, wanted requests.

Status moves of a lot happen here (listing and moderation) and in auctions.services (opening,
bids, closing); each locks the lot row first through `lock_lot`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Max, Q
from django.db.transaction import TransactionManagementError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import Company
from accounts.services import require_cooperative_admin, require_verified_company
from auctions.events import append_event
from core.districts import District
from core.errors import conflict, invalid, not_found
from core.files import JPEG, PNG, sniff
from core.services import audit_record, notify
from core.sql import execute_together, pk_in_range
from payments.stripe_client import MAX_AMOUNT
from recycling.models import Category, Lot, LotPhoto, Unit, WantedMatch, WantedRequest

CENT = Decimal("0.01")
# Default deposit (保证金): this share of start price × quantity, rounded to the fen.
DEFAULT_DEPOSIT_RATE = Decimal("0.10")
# A deposit is held on the bidder's card in one payment: at most what Stripe takes in one.
MAX_DEPOSIT = MAX_AMOUNT
MAX_PHOTOS = 8
PHOTO_MAX_SIDE = 2000
THUMB_SIDE = 400
# Heilongjiang's bounding box (WGS-84), generous by a few km at the borders.
HEILONGJIANG = {"lat": (Decimal("43.40"), Decimal("53.60")), "lng": (Decimal("121.10"), Decimal("135.10"))}

# Off-platform contacts in a description: mainland mobiles (with separators), landlines,
# WeChat / QQ handles. Scam listings on waste exchanges lure buyers off the platform.
_CONTACT_PATTERNS = [
    (re.compile(r"(?<!\d)1[3-9]\d(?:[\s-]?\d){8}(?!\d)"), gettext_lazy("a mobile number")),
    (re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)"), gettext_lazy("a landline number")),
    (
        re.compile(r"(微信|威信|薇信|徽信|V信|wechat|weixin|\bvx\b|\bwx\b)\s*[:：号]?\s*[\w-]{3,}", re.IGNORECASE),
        gettext_lazy("a WeChat ID"),
    ),
    (re.compile(r"(qq|扣扣)\s*[:：号]?\s*\d{5,12}", re.IGNORECASE), gettext_lazy("a QQ number")),
]

TERM_FIELDS = (
    "title",
    "category",
    "quantity",
    "unit",
    "description",
    "district",
    "address",
    "latitude",
    "longitude",
    "format",
    "start_price",
    "reserve_price",
    "bid_increment",
    "deposit",
    "starts_at",
    "ends_at",
    "soft_close_seconds",
    "max_extension_seconds",
    "min_bidders",
    "pickup_from",
    "pickup_until",
    "seller_delivers",
)


def lock_lot(lot_id: int) -> Lot:
    """Lock one lot row. Every service that changes a lot takes its lock here, first."""
    return lock_lot_with(lot_id)[0]


def lock_lot_with(lot_id: int, *, columns: Sequence[str] | None = None, also: Sequence[tuple] = ()) -> tuple[Lot, list]:
    """lock_lot, reading only `columns` (the others are deferred, as with `.only()`), and with
    the statements `also` (core.sql.execute_together's) run after the lock is granted, in the
    same round trip on PostgreSQL; returns the lot and their results.

    Hand-written SQL (core/sql.py): every bid takes this lock, and the ORM's compile of the
    same statement cost three times its round trip."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("lock_lot() outside a transaction would lock nothing.")
    if not pk_in_range(lot_id):
        raise not_found(_("No such lot."))
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT {_selected(columns)} FROM {Lot._meta.db_table} WHERE id = %s{lock}"  # noqa: S608
    rows, *results = execute_together([(sql, [lot_id], Lot), *also])
    if not rows:
        raise not_found(_("No such lot."))
    return rows[0], results


def lock_lot_at(lot_id: int, seq: int, *, columns: Sequence[str], also: Sequence[tuple] = ()) -> tuple[Lot, bool, list]:
    """lock_lot_with, but the lot is locked only if it is still at `seq` (the state the caller
    has checked without a lock): returns the lot, whether it is locked, and the results of
    `also` (run after the lock's wait, in the same round trip).

    When the lot has moved meanwhile, it comes back as committed now and unlocked, for the
    caller to check again. So the losers of a race for a hot lot, which queued for its lock
    behind the winner, never hold it: with a plain `FOR UPDATE` each of them would, one after
    the other, for a round trip to its process and back to roll back, with every bidder
    behind it waiting (bench/bids.py). PostgreSQL: the database function
    `recycling_lock_lot_at` (migrations 0007, 0008) takes the lock in a subtransaction and
    gives it back when the lot moved; when it keeps it, it also takes the lot's advisory lock,
    for which a bid's first, unlocked read waits (`recycling_await_lot`, auctions'
    _lot_for_bid) to read what this transaction commits. SQLite: the transaction already holds
    the whole database."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("lock_lot() outside a transaction would lock nothing.")
    if not pk_in_range(lot_id):
        raise not_found(_("No such lot."))
    if connection.vendor == "postgresql":
        selected = ", ".join(f"(lot).{column}" for column in ["id", *(c for c in columns if c != "id")])
        sql = f"SELECT locked, {selected} FROM recycling_lock_lot_at(%s, %s) WHERE (lot).id IS NOT NULL"  # noqa: S608
        rows, *results = execute_together([(sql, [lot_id, seq], Lot), *also])
    else:
        sql = f"SELECT {_selected(columns)} FROM {Lot._meta.db_table} WHERE id = %s"  # noqa: S608
        rows, *results = execute_together([(sql, [lot_id], Lot), *also])
    if not rows:
        raise not_found(_("No such lot."))
    lot = rows[0]
    locked = bool(lot.__dict__.pop("locked", True)) and lot.seq == seq
    return lot, locked, results


def _selected(columns: Sequence[str] | None) -> str:
    return "*" if columns is None else ", ".join(["id", *(c for c in columns if c != "id")])


def default_deposit(*, start_price: Decimal, quantity: Decimal) -> Decimal:
    """DEFAULT_DEPOSIT_RATE of the lot's value at its start price, at most MAX_DEPOSIT."""
    rated = (start_price * quantity * DEFAULT_DEPOSIT_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(rated, MAX_DEPOSIT)


def check_deposit_limit(deposit: Decimal | None) -> None:
    """400 `invalid_price` for a deposit above what one card payment can hold (MAX_DEPOSIT)."""
    if deposit is not None and deposit > MAX_DEPOSIT:
        raise invalid(
            "invalid_price",
            _("The deposit cannot exceed ¥%(max)s, the most one card payment can hold.")
            % {"max": f"{MAX_DEPOSIT:,.2f}"},
            deposit=_("Too large."),
        )


def contact_warning(text: str) -> str:
    """What off-platform contact `text` seems to contain, for the moderator; '' if none."""
    found = [str(label) for pattern, label in _CONTACT_PATTERNS if pattern.search(text or "")]
    if not found:
        return ""
    return _("The description seems to contain %(what)s: check for off-platform contact.") % {"what": ", ".join(found)}


def _snapshot(lot: Lot) -> dict[str, Any]:
    return {"status": lot.status, "review_reason": lot.review_reason}


def _validate_terms(values: dict[str, Any], *, now: dt.datetime) -> None:
    """Rules every lot obeys; `values` holds the complete terms after the change."""
    if values["quantity"] is None or values["quantity"] <= 0:
        raise invalid("invalid_quantity", _("The quantity must be greater than zero."), quantity=_("Must be > 0."))
    if values["start_price"] is None or values["start_price"] <= 0:
        raise invalid("invalid_price", _("The start price must be greater than zero."), start_price=_("Must be > 0."))
    if values["ends_at"] <= values["starts_at"]:
        raise invalid(
            "invalid_schedule", _("The auction must end after it starts."), ends_at=_("Must be after starts_at.")
        )
    reserve = values.get("reserve_price")
    if reserve is not None and reserve < values["start_price"]:
        raise invalid(
            "invalid_reserve", _("The reserve price cannot be below the start price."), reserve_price=_("Below start.")
        )
    increment = values.get("bid_increment")
    if increment is not None and increment <= 0:
        raise invalid("invalid_increment", _("The bid increment must be greater than zero."), bid_increment=_("> 0."))
    if values["deposit"] is not None and values["deposit"] < 0:
        raise invalid("invalid_price", _("The deposit cannot be negative."), deposit=_("Must be ≥ 0."))
    check_deposit_limit(values["deposit"])
    if values["pickup_from"] < values["ends_at"]:
        raise invalid(
            "invalid_pickup_window",
            _("The pickup window must start after the auction ends."),
            pickup_from=_("Before the auction ends."),
        )
    if values["pickup_until"] <= values["pickup_from"]:
        raise invalid(
            "invalid_pickup_window", _("The pickup window must end after it starts."), pickup_until=_("Too early.")
        )
    if values["min_bidders"] < 1:
        raise invalid("validation_error", _("At least one bidder is needed."), min_bidders=_("Must be ≥ 1."))
    lat, lng = values.get("latitude"), values.get("longitude")
    if (lat is None) != (lng is None):
        raise invalid("validation_error", _("Give both latitude and longitude, or neither."), latitude=_("Incomplete."))
    if lat is not None and not (
        HEILONGJIANG["lat"][0] <= lat <= HEILONGJIANG["lat"][1]
        and HEILONGJIANG["lng"][0] <= lng <= HEILONGJIANG["lng"][1]
    ):
        raise invalid(
            "outside_service_area",
            _("The coordinates lie outside Heilongjiang."),
            latitude=_("Outside Heilongjiang."),
        )
    if values["district"] not in District.values:
        raise invalid("validation_error", _("Unknown district."), district=_("Unknown district."))
    if values["unit"] not in Unit.values:
        raise invalid("validation_error", _("Unknown unit."), unit=_("Unknown unit."))
    if values["format"] not in Lot.Format.values:
        raise invalid("validation_error", _("Unknown auction format."), format=_("Unknown format."))
    if not (values.get("title") or "").strip():
        raise invalid("validation_error", _("A title is required."), title=_("Required."))
    if not (values.get("address") or "").strip():
        raise invalid("validation_error", _("The pickup address is required."), address=_("Required."))


def _resolve_category(value: Any) -> Category:
    category = value if isinstance(value, Category) else Category.objects.filter(code=value, active=True).first()
    if category is None or not category.active:
        raise invalid("validation_error", _("Unknown category."), category=_("Unknown category."))
    return category


def _apply_terms(lot: Lot, values: dict[str, Any]) -> None:
    for key, value in values.items():
        setattr(lot, key, value)
    lot.scheduled_end = lot.ends_at
    lot.title = lot.title.strip()
    lot.search_text = f"{lot.title}\n{lot.description}".lower()
    lot.contact_warning = contact_warning(f"{lot.title}\n{lot.description}")


@transaction.atomic
def lot_create(*, actor: Any, **terms: Any) -> Lot:
    """A verified collector lists a lot; it starts as a `draft`.

    Omitted terms take their defaults: unit from the category, format english, deposit 10% of
    start price × quantity, soft close 300 s capped at 3600 s, one bidder, no reserve, the
    default increment ladder."""
    company = require_verified_company(actor, role=Company.Role.COLLECTOR)
    unknown = set(terms) - set(TERM_FIELDS)
    if unknown:
        raise invalid("validation_error", _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    required = ("title", "category", "quantity", "start_price", "starts_at", "ends_at", "pickup_from", "pickup_until")
    missing = [name for name in required if terms.get(name) in (None, "")]
    if missing:
        raise invalid("validation_error", _("Missing required terms."), **{name: _("Required.") for name in missing})
    category = _resolve_category(terms["category"])
    values: dict[str, Any] = {
        "unit": category.unit,
        "description": "",
        "district": company.district,
        "address": company.address,
        "latitude": None,
        "longitude": None,
        "format": Lot.Format.ENGLISH,
        "reserve_price": None,
        "bid_increment": None,
        "deposit": None,
        "soft_close_seconds": 300,
        "max_extension_seconds": 3600,
        "min_bidders": 1,
        "seller_delivers": False,
    }
    values.update({key: value for key, value in terms.items() if value is not None or key in ("reserve_price",)})
    values["category"] = category
    if values["deposit"] is None and values["quantity"] and values["start_price"]:
        values["deposit"] = default_deposit(start_price=values["start_price"], quantity=values["quantity"])
    now = timezone.now()
    _validate_terms(values, now=now)
    lot = Lot(seller=company, created_by=actor)
    _apply_terms(lot, values)
    lot.save()
    lot.code = f"HRB-{timezone.localtime(lot.created_at).year}-{lot.pk:06d}"
    append_event(lot, "listed", {"status": lot.status, "code": lot.code, "category": lot.category.code})
    lot.save(update_fields=["code", "seq", "ledger_head"])
    audit_record(
        actor=actor,
        action="lot.create",
        target_type="lot",
        target_id=lot.pk,
        target_label=lot.code,
        after={"status": lot.status},
    )
    return lot


def _own_lot(actor: Any, lot_id: int) -> Lot:
    lot = lock_lot(lot_id)
    if getattr(actor, "company_id", None) != lot.seller_id:
        raise not_found(_("No such lot."))
    return lot


@transaction.atomic
def lot_update(*, actor: Any, lot_id: int, **changes: Any) -> Lot:
    """The seller edits a `draft` or `rejected` lot (else 409 not_editable)."""
    lot = _own_lot(actor, lot_id)
    require_verified_company(actor, role=Company.Role.COLLECTOR)
    if lot.status not in Lot.EDITABLE:
        raise conflict(
            "not_editable",
            _("A %(status)s lot cannot be edited.") % {"status": lot.get_status_display()},
        )
    unknown = set(changes) - set(TERM_FIELDS)
    if unknown:
        raise invalid("validation_error", _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    values = {name: getattr(lot, name) for name in TERM_FIELDS}
    old_default = default_deposit(start_price=lot.start_price, quantity=lot.quantity)
    values.update(changes)
    values["category"] = _resolve_category(values["category"])
    if "deposit" not in changes and lot.deposit == old_default:
        # The deposit followed the default; keep it following when price or quantity change.
        values["deposit"] = default_deposit(start_price=values["start_price"], quantity=values["quantity"])
    elif values.get("deposit") is None:
        values["deposit"] = default_deposit(start_price=values["start_price"], quantity=values["quantity"])
    _validate_terms(values, now=timezone.now())
    _apply_terms(lot, values)
    lot.save()
    return lot


@transaction.atomic
def lot_submit(*, actor: Any, lot_id: int) -> Lot:
    """draft | rejected → pending_review: into the cooperative's queue."""
    lot = _own_lot(actor, lot_id)
    require_verified_company(actor, role=Company.Role.COLLECTOR)
    if lot.status not in Lot.EDITABLE:
        raise conflict("bad_transition", _("Only a draft or rejected lot can be submitted."))
    if lot.ends_at <= timezone.now():
        raise conflict("schedule_passed", _("The auction's end has passed: change the schedule first."))
    before = _snapshot(lot)
    lot.status = Lot.Status.PENDING_REVIEW
    lot.submitted_at = timezone.now()
    lot.save(update_fields=["status", "submitted_at", "updated_at"])
    audit_record(
        actor=actor,
        action="lot.submit",
        target_type="lot",
        target_id=lot.pk,
        target_label=lot.code,
        before=before,
        after=_snapshot(lot),
    )
    return lot


@transaction.atomic
def lot_review(*, actor: Any, lot_id: int, decision: str, reason: str = "") -> Lot:
    """pending_review → scheduled (or live when its start has passed) | rejected with a reason."""
    require_cooperative_admin(actor)
    if decision not in ("approve", "reject"):
        raise invalid("validation_error", _("Decision must be approve or reject."), decision=_("Unknown decision."))
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise invalid("reason_required", _("Tell the seller why the lot is rejected."), reason=_("Required."))
    lot = lock_lot(lot_id)
    if lot.status != Lot.Status.PENDING_REVIEW:
        raise conflict(
            "bad_transition",
            _("Only a lot pending review can be reviewed; this one is %(status)s.")
            % {"status": lot.get_status_display()},
        )
    now = timezone.now()
    if decision == "approve" and lot.ends_at <= now:
        raise conflict("schedule_passed", _("The auction's end has passed: reject it so the seller can reschedule."))
    before = _snapshot(lot)
    if decision == "approve":
        lot.status = Lot.Status.LIVE if lot.starts_at <= now else Lot.Status.SCHEDULED
        lot.published_at = now
    else:
        lot.status = Lot.Status.REJECTED
    lot.review_reason = reason
    if decision == "approve":
        append_event(lot, "approved", {"status": lot.status})
    lot.save(update_fields=["status", "review_reason", "published_at", "seq", "ledger_head", "updated_at"])
    audit_record(
        actor=actor,
        action=f"lot.{decision}",
        target_type="lot",
        target_id=lot.pk,
        target_label=lot.code,
        before=before,
        after=_snapshot(lot),
        reason=reason,
    )
    url = reverse("recycling:lot_detail", args=[lot.pk])
    if decision == "approve":
        notify(
            users=lot.seller.members.all(),
            kind="lot_approved",
            title=_("Your lot %(code)s is published") % {"code": lot.code},
            body=_("The cooperative approved “%(title)s”.") % {"title": lot.title},
            url=url,
        )
        wanted_match_lot(lot=lot)
    else:
        notify(
            users=lot.seller.members.all(),
            kind="lot_rejected",
            title=_("Your lot %(code)s was rejected") % {"code": lot.code},
            body=_("Reason: %(reason)s. Edit the lot and submit it again.") % {"reason": reason},
            url=url,
        )
    return lot


WITHDRAWABLE = (Lot.Status.PENDING_REVIEW, Lot.Status.SCHEDULED, Lot.Status.LIVE)


@transaction.atomic
def lot_withdraw(*, actor: Any, lot_id: int, reason: str) -> Lot:
    """A cooperative admin takes a lot that is not yet awarded off the board."""
    require_cooperative_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason_required", _("Give a reason for withdrawing the lot."), reason=_("Required."))
    lot = lock_lot(lot_id)
    if lot.status not in WITHDRAWABLE:
        raise conflict(
            "bad_transition",
            _("A %(status)s lot cannot be withdrawn.") % {"status": lot.get_status_display()},
        )
    before = _snapshot(lot)
    lot.status = Lot.Status.WITHDRAWN
    lot.review_reason = reason
    lot.closed_at = timezone.now()
    append_event(lot, "status", {"status": lot.status, "reason": reason})
    lot.save(update_fields=["status", "review_reason", "closed_at", "seq", "ledger_head", "updated_at"])
    audit_record(
        actor=actor,
        action="lot.withdraw",
        target_type="lot",
        target_id=lot.pk,
        target_label=lot.code,
        before=before,
        after=_snapshot(lot),
        reason=reason,
    )
    from payments.services import lot_money_after_close  # here: payments imports this module

    # Every deposit hold on the lot is released after the commit, never in it.
    transaction.on_commit(lambda: lot_money_after_close(lot_id=lot.pk))
    notify(
        users=lot.seller.members.all(),
        kind="lot_withdrawn",
        title=_("Your lot %(code)s was withdrawn") % {"code": lot.code},
        body=_("Reason: %(reason)s.") % {"reason": reason},
        url=reverse("recycling:lot_detail", args=[lot.pk]),
    )
    return lot


# --- Photos ---------------------------------------------------------------------------


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


# --- Wanted requests (求购) ------------------------------------------------------------


@transaction.atomic
def wanted_create(
    *,
    actor: Any,
    category: Any,
    valid_until: dt.date,
    unit: str | None = None,
    quantity_min: Decimal | None = None,
    quantity_max: Decimal | None = None,
    max_unit_price: Decimal | None = None,
    districts: list[str] | None = None,
    note: str = "",
) -> WantedRequest:
    company = require_verified_company(actor, role=Company.Role.PROCESSOR)
    category = _resolve_category(category)
    districts = list(dict.fromkeys(districts or []))
    bad = [d for d in districts if d not in District.values]
    if bad:
        raise invalid("validation_error", _("Unknown district."), districts=_("Unknown: %(d)s") % {"d": ", ".join(bad)})
    if quantity_min is not None and quantity_min < 0 or quantity_max is not None and quantity_max <= 0:
        raise invalid("invalid_quantity", _("Quantities must be positive."), quantity_min=_("Must be > 0."))
    if quantity_min is not None and quantity_max is not None and quantity_max < quantity_min:
        raise invalid("invalid_quantity", _("The maximum quantity is below the minimum."), quantity_max=_("Too low."))
    if max_unit_price is not None and max_unit_price <= 0:
        raise invalid("invalid_price", _("The maximum price must be positive."), max_unit_price=_("Must be > 0."))
    if valid_until < timezone.localdate():
        raise invalid("validation_error", _("The request would already have expired."), valid_until=_("In the past."))
    wanted = WantedRequest.objects.create(
        company=company,
        created_by=actor,
        category=category,
        unit=unit or category.unit,
        quantity_min=quantity_min,
        quantity_max=quantity_max,
        max_unit_price=max_unit_price,
        districts=districts,
        valid_until=valid_until,
        note=note.strip(),
    )
    audit_record(
        actor=actor,
        action="wanted.create",
        target_type="wanted",
        target_id=wanted.pk,
        target_label=str(category),
        after={"status": wanted.status},
    )
    return wanted


@transaction.atomic
def wanted_close(*, actor: Any, wanted_id: int) -> WantedRequest:
    wanted = WantedRequest.objects.select_for_update().filter(pk=wanted_id).first()
    if wanted is None or (wanted.company_id != getattr(actor, "company_id", None) and not actor.is_cooperative_admin):
        raise not_found(_("No such wanted request."))
    if wanted.status != WantedRequest.Status.OPEN:
        raise conflict("bad_transition", _("This wanted request is already closed."))
    wanted.status = WantedRequest.Status.CLOSED
    wanted.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="wanted.close",
        target_type="wanted",
        target_id=wanted.pk,
        target_label=str(wanted.category),
        before={"status": "open"},
        after={"status": "closed"},
    )
    return wanted


def matching_wanted(*, lot: Lot) -> list[WantedRequest]:
    """Open, unexpired requests whose category (or its parent class), quantity range and
    districts admit `lot`, from companies that may still buy; oldest first."""
    categories = [lot.category_id] + ([lot.category.parent_id] if lot.category.parent_id else [])
    quantity = lot.quantity
    candidates = (
        WantedRequest.objects.filter(
            status=WantedRequest.Status.OPEN,
            valid_until__gte=timezone.localdate(),
            category_id__in=categories,
            unit=lot.unit,
            company__status=Company.Status.VERIFIED,
        )
        .filter(Q(quantity_min__isnull=True) | Q(quantity_min__lte=quantity))
        .filter(Q(quantity_max__isnull=True) | Q(quantity_max__gte=quantity))
        .exclude(company_id=lot.seller_id)
        .select_related("company")
        .order_by("created_at", "id")
    )
    return [w for w in candidates if not w.districts or lot.district in w.districts]


def wanted_match_lot(*, lot: Lot) -> list[WantedMatch]:
    """Notify each processor with a matching request about `lot`, once per (lot, company).

    Runs inside the publishing transaction; the unique (lot, company) row makes a second call
    a no-op."""
    matches: list[WantedMatch] = []
    already = set(WantedMatch.objects.filter(lot=lot).values_list("company_id", flat=True))
    for wanted in matching_wanted(lot=lot):
        if wanted.company_id in already:
            continue
        already.add(wanted.company_id)
        match = WantedMatch.objects.create(lot=lot, company_id=wanted.company_id, wanted=wanted)
        matches.append(match)
        notify(
            users=wanted.company.members.all(),
            kind="wanted_match",
            title=_("A new lot matches your wanted request: %(title)s") % {"title": lot.title},
            body=_("%(code)s · %(quantity)s %(unit)s · %(district)s · ends %(ends)s")
            % {
                "code": lot.code,
                "quantity": lot.quantity_display,
                "unit": lot.get_unit_display(),
                "district": lot.get_district_display(),
                "ends": timezone.localtime(lot.ends_at).strftime("%Y-%m-%d %H:%M"),
            },
            url=reverse("recycling:lot_detail", args=[lot.pk]),
        )
    return matches
