"""Reads of the lots domain: who may see which lot, the board's search, the market figures."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import invalid
from recycling.models import Category, Lot, LotPhoto, WantedRequest

PUBLIC_STATUSES = (*Lot.PUBLISHED, Lot.Status.WITHDRAWN)
ORDERINGS = {
    "ends_at": ("ends_at", "id"),
    "-ends_at": ("-ends_at", "-id"),
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "current_price": ("price_now", "id"),
    "-current_price": ("-price_now", "-id"),
}


def _with_relations(qs: QuerySet[Lot]) -> QuerySet[Lot]:
    return qs.select_related("category", "category__parent", "seller", "winner").prefetch_related(
        Prefetch("photos", queryset=LotPhoto.objects.order_by("position", "id"))
    )


def lots_visible_to(user: Any) -> QuerySet[Lot]:
    """Every lot `user` may see: the public board, its own company's lots, or all (admins)."""
    qs = Lot.objects.all()
    if user is not None and user.is_authenticated and user.is_cooperative_admin:
        return qs
    public = Q(status__in=Lot.PUBLISHED) | Q(status=Lot.Status.WITHDRAWN, published_at__isnull=False)
    if user is not None and user.is_authenticated and user.company_id:
        return qs.filter(public | Q(seller_id=user.company_id))
    return qs.filter(public)


def lot_for(user: Any, lot_id: int) -> Lot | None:
    return _with_relations(lots_visible_to(user)).filter(pk=lot_id).first()


def can_see_contact(user: Any, lot: Lot) -> bool:
    """The seller's phone and exact address: the cooperative, the seller, and after the award
    the winner only."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_cooperative_admin or user.company_id == lot.seller_id:
        return True
    return lot.status == Lot.Status.AWARDED and lot.winner_id is not None and lot.winner_id == user.company_id


def can_see_reserve(user: Any, lot: Lot) -> bool:
    return bool(user and user.is_authenticated and (user.is_cooperative_admin or user.company_id == lot.seller_id))


def _decimal(params: dict, name: str) -> Decimal | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except ArithmeticError:
        raise invalid("validation_error", _("Not a number."), **{name: _("Not a number.")}) from None
    if not value.is_finite():
        raise invalid("validation_error", _("Not a number."), **{name: _("Not a number.")})
    return value


def _datetime(params: dict, name: str) -> dt.datetime | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    from django.utils.dateparse import parse_date, parse_datetime

    try:
        value = parse_datetime(raw)
        if value is None and parse_date(raw):
            day = parse_date(raw)
            value = dt.datetime.combine(day, dt.time.max)
    except ValueError:
        value = None
    if value is None:
        raise invalid("validation_error", _("Use ISO 8601 (2026-11-30T18:00:00+08:00)."), **{name: _("Bad date.")})
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise invalid("validation_error", _("Date out of range."), **{name: _("Bad date.")}) from None
    return value


def category_codes(code: str) -> list[int]:
    """A class stands for itself and all its grades."""
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise invalid("validation_error", _("Unknown category."), category=_("Unknown category."))
    return [category.pk, *category.grades.values_list("pk", flat=True)]


def lot_search(*, user: Any, params: dict, base: QuerySet[Lot] | None = None) -> QuerySet[Lot]:
    """The board's search: filters status, category, district, q, min/max_quantity,
    ends_before, and `ordering`. Without `status` the board shows lots open or closed, not
    withdrawn ones."""
    if any("\x00" in str(value) for value in params.values()):
        # PostgreSQL refuses NUL in text: a 400 here, not a 500 there.
        raise invalid("validation_error", _("Null characters are not allowed."))
    qs = base if base is not None else lots_visible_to(user)
    status = params.get("status")
    if status:
        wanted = [s.strip() for s in status.split(",") if s.strip()]
        bad = [s for s in wanted if s not in Lot.Status.values]
        if bad:
            raise invalid("validation_error", _("Unknown status."), status=_("Unknown: %(s)s") % {"s": ", ".join(bad)})
        qs = qs.filter(status__in=wanted)
    elif base is None:
        qs = qs.filter(status__in=Lot.PUBLISHED)
    if params.get("category"):
        qs = qs.filter(category_id__in=category_codes(params["category"]))
    if params.get("district"):
        qs = qs.filter(district=params["district"])
    q = (params.get("q") or "").strip().lower()
    if q:
        for word in q.split()[:5]:
            qs = qs.filter(search_text__contains=word)
    min_q, max_q = _decimal(params, "min_quantity"), _decimal(params, "max_quantity")
    if min_q is not None:
        qs = qs.filter(quantity__gte=min_q)
    if max_q is not None:
        qs = qs.filter(quantity__lte=max_q)
    ends_before = _datetime(params, "ends_before")
    if ends_before is not None:
        qs = qs.filter(ends_at__lte=ends_before)
    ordering = params.get("ordering") or "ends_at"
    if ordering not in ORDERINGS:
        raise invalid(
            "validation_error",
            _("Order by one of: %(o)s.") % {"o": ", ".join(ORDERINGS)},
            ordering=_("Unknown ordering."),
        )
    if "price_now" in ORDERINGS[ordering][0]:
        qs = qs.annotate(price_now=Coalesce(F("current_price"), F("start_price")))
    return _with_relations(qs).order_by(*ORDERINGS[ordering])


def lots_of_seller(*, company_id: int) -> QuerySet[Lot]:
    return _with_relations(Lot.objects.filter(seller_id=company_id)).order_by("-created_at", "-id")


def review_queue() -> QuerySet[Lot]:
    return _with_relations(Lot.objects.filter(status=Lot.Status.PENDING_REVIEW)).order_by("submitted_at", "id")


def board(*, now: dt.datetime | None = None, limit: int = 8) -> dict[str, Any]:
    """The home page: live lots, those ending within 24 h, newest wanted requests."""
    now = now or timezone.now()
    live = _with_relations(Lot.objects.filter(status=Lot.Status.LIVE)).order_by("-published_at", "-id")[:limit]
    ending = _with_relations(
        Lot.objects.filter(status=Lot.Status.LIVE, ends_at__lte=now + dt.timedelta(hours=24))
    ).order_by("ends_at", "id")[:limit]
    upcoming = _with_relations(Lot.objects.filter(status=Lot.Status.SCHEDULED)).order_by("starts_at", "id")[:limit]
    return {
        "live": list(live),
        "ending_soon": list(ending),
        "upcoming": list(upcoming),
        "wanted": list(wanted_open()[:limit]),
    }


def wanted_open(*, category: str | None = None) -> QuerySet[WantedRequest]:
    """Open, unexpired wanted requests, newest first (a class includes its grades)."""
    qs = WantedRequest.objects.filter(status=WantedRequest.Status.OPEN, valid_until__gte=timezone.localdate())
    if category:
        qs = qs.filter(category_id__in=category_codes(category))
    return qs.select_related("company", "category", "category__parent").order_by("-created_at", "-id")


@dataclass
class CategoryPrices:
    category: Category
    unit: str
    median_30d: Decimal | None
    lots_30d: int
    weekly: list[tuple[dt.date, Decimal]] = field(default_factory=list)


def market_prices(*, now: dt.datetime | None = None, weeks: int = 26) -> list[CategoryPrices]:
    """Clearing prices from awarded lots, per top-level category: the median unit price of
    the last 30 days and the weekly median (weeks start on Monday, Asia/Shanghai)."""
    now = now or timezone.now()
    since = now - dt.timedelta(weeks=weeks)
    rows = (
        Lot.objects.filter(status=Lot.Status.AWARDED, final_price__isnull=False, closed_at__gte=since)
        .select_related("category", "category__parent")
        .values_list("category__parent_id", "category_id", "unit", "final_price", "closed_at")
    )
    by_class: dict[tuple[int, str], list[tuple[dt.datetime, Decimal]]] = defaultdict(list)
    for parent_id, category_id, unit, price, closed_at in rows:
        by_class[(parent_id or category_id, unit)].append((closed_at, price))
    categories = Category.objects.in_bulk({key[0] for key in by_class})
    result = []
    for (category_id, unit), points in by_class.items():
        recent = [price for at, price in points if at >= now - dt.timedelta(days=30)]
        weekly: dict[dt.date, list[Decimal]] = defaultdict(list)
        for at, price in points:
            day = timezone.localtime(at).date()
            weekly[day - dt.timedelta(days=day.weekday())].append(price)
        result.append(
            CategoryPrices(
                category=categories[category_id],
                unit=unit,
                median_30d=_median(recent),
                lots_30d=len(recent),
                weekly=sorted((week, _median(prices)) for week, prices in weekly.items()),
            )
        )
    return sorted(result, key=lambda item: (item.category.sort, item.unit))


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return Decimal(statistics.median(values)).quantize(Decimal("0.01"))
