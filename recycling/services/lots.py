"""Lots: their terms and deposit, listing and editing (lot_create, lot_update), moderation
(lot_submit, lot_review, lot_withdraw), and the off-platform contact warning."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Company
from accounts.services import require_cooperative_admin, require_verified_company
from auctions.events import append_event
from core.districts import District
from core.errors import conflict, invalid
from core.services import audit_record, notify
from payments.stripe_client import MAX_AMOUNT
from recycling.models import Lot, Unit
from recycling.services.common import _own_lot, _resolve_category
from recycling.services.locks import lock_lot
from recycling.services.wanted import wanted_match_lot

CENT = Decimal("0.01")
# Default deposit (保证金): this share of start price × quantity, rounded to the fen.
DEFAULT_DEPOSIT_RATE = Decimal("0.10")
# A deposit is held on the bidder's card in one payment: at most what Stripe takes in one.
MAX_DEPOSIT = MAX_AMOUNT
# Default pickup window (提货期): it opens at the scheduled end of bidding (no pickup is booked
# before the award anyway) and closes PICKUP_DAYS_AFTER_PAYMENT days past the payment deadline
# (settings.PAYMENT_DAYS) of a winner awarded at the latest possible close (the scheduled end +
# max_extension_seconds): a soft-closed auction still leaves time to pay, book a carrier, collect.
PICKUP_DAYS_AFTER_PAYMENT = 7
# What one lot may trade for: price × listed quantity, at the start and at every bid
# (auctions.services.bidding). Its settlement (weighed at most 10× the listed quantity,
# logistics.services.weighing, plus fees) must fit the settlement's columns (< ¥10¹²).
MAX_LOT_VALUE = Decimal("9e10")
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


def default_deposit(*, start_price: Decimal, quantity: Decimal) -> Decimal:
    """DEFAULT_DEPOSIT_RATE of the lot's value at its start price, at most MAX_DEPOSIT."""
    rated = (start_price * quantity * DEFAULT_DEPOSIT_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(rated, MAX_DEPOSIT)


def default_pickup_window(*, ends_at: dt.datetime, max_extension_seconds: int) -> tuple[dt.datetime, dt.datetime]:
    """(pickup_from, pickup_until) of a lot that sets none: from the scheduled end of bidding to
    PAYMENT_DAYS + PICKUP_DAYS_AFTER_PAYMENT days after its latest possible close."""
    latest_close = ends_at + dt.timedelta(seconds=max_extension_seconds)
    days = settings.PAYMENT_DAYS + PICKUP_DAYS_AFTER_PAYMENT
    return ends_at, latest_close + dt.timedelta(days=days)


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
    if values["start_price"] * values["quantity"] > MAX_LOT_VALUE:
        raise invalid(
            "invalid_price",
            _("At this start price the lot is worth more than ¥%(max)s, the most one lot trades for.")
            % {"max": f"{MAX_LOT_VALUE:,.2f}"},
            start_price=_("Too large."),
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
    default increment ladder, the pickup window of default_pickup_window."""
    company = require_verified_company(actor, role=Company.Role.COLLECTOR)
    unknown = set(terms) - set(TERM_FIELDS)
    if unknown:
        raise invalid("validation_error", _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    required = ("title", "category", "quantity", "start_price", "starts_at", "ends_at")
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
    window = default_pickup_window(ends_at=values["ends_at"], max_extension_seconds=values["max_extension_seconds"])
    values.setdefault("pickup_from", window[0])
    values.setdefault("pickup_until", window[1])
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
    old_window = default_pickup_window(ends_at=lot.ends_at, max_extension_seconds=lot.max_extension_seconds)
    values.update(changes)
    values["category"] = _resolve_category(values["category"])
    if "deposit" not in changes and lot.deposit == old_default:
        # The deposit followed the default; keep it following when price or quantity change.
        values["deposit"] = default_deposit(start_price=values["start_price"], quantity=values["quantity"])
    elif values.get("deposit") is None:
        values["deposit"] = default_deposit(start_price=values["start_price"], quantity=values["quantity"])
    window = default_pickup_window(ends_at=values["ends_at"], max_extension_seconds=values["max_extension_seconds"])
    for name, old, new in zip(("pickup_from", "pickup_until"), old_window, window, strict=True):
        stored = getattr(lot, name)
        # A bound that followed the default keeps following the schedule unless this change
        # moves it (one sent back unchanged, as a client that PATCHes what it read does, is no
        # move); an empty one takes the default.
        if values[name] is None or (stored == old and values[name] == stored):
            values[name] = new
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
