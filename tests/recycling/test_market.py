"""Clearing prices from known awarded lots."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from recycling import selectors
from recycling.models import Category, Lot
from tests import factories

pytestmark = pytest.mark.django_db


def _awarded(seller, category, price, days_ago, now):
    lot = factories.make_lot(seller=seller, status="live", category=Category.objects.get(code=category))
    Lot.objects.filter(pk=lot.pk).update(
        status="awarded", final_price=Decimal(price), closed_at=now - dt.timedelta(days=days_ago)
    )


def test_thirty_day_median_and_weekly_medians(collector):
    now = timezone.make_aware(dt.datetime(2026, 11, 20, 12, 0))  # a Friday
    for price, days in [("2300", 1), ("2500", 2), ("2400", 10), ("2900", 29), ("2000", 40), ("1800", 41)]:
        _awarded(collector, "steel-heavy", price, days, now)
    _awarded(collector, "steel-light", "2100", 3, now)  # a grade of the same class
    _awarded(collector, "paper-occ", "1500", 5, now)
    unsold = factories.make_lot(seller=collector, status="unsold")
    Lot.objects.filter(pk=unsold.pk).update(final_price=Decimal("99999"), closed_at=now)

    prices = {item.category.code: item for item in selectors.market_prices(now=now)}

    steel = prices["steel"]
    assert steel.lots_30d == 5
    assert steel.median_30d == Decimal("2400.00")  # 2100 2300 2400 2500 2900
    assert steel.weekly == [
        (dt.date(2026, 10, 5), Decimal("1900.00")),  # 2000 and 1800 (days 40, 41)
        (dt.date(2026, 10, 19), Decimal("2900.00")),
        (dt.date(2026, 11, 9), Decimal("2400.00")),
        (dt.date(2026, 11, 16), Decimal("2300.00")),  # 2300 2500 2100
    ]
    assert prices["paper"].median_30d == Decimal("1500.00")


def test_market_api_is_public(collector):
    _awarded(collector, "paper-occ", "1500", 1, timezone.now())
    _awarded(collector, "paper-occ", "1600", 2, timezone.now())
    body = APIClient().get("/api/v1/market/prices/").json()
    assert body[0]["category"] == "paper" and body[0]["median_30d"] == "1550.00" and body[0]["lots_30d"] == 2
