"""Deposits and payments run against localstripe (tests/payments/localstripe.py): a real HTTP
server speaking Stripe's API, started once per session on 127.0.0.1 and emptied per test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Company
from recycling import services as lot_services
from recycling.models import Lot
from tests import factories
from tests.payments.localstripe import localstripe, localstripe_server  # noqa: F401  (fixtures)


@pytest.fixture
def deposit_lot(collector):
    """deposit_lot(**terms): a live English lot ending in an hour (start 2300.00/t × 30 t,
    increment 50.00) with the default deposit (10%: 6900.00) unless given."""

    def make(**overrides):
        now = timezone.now()
        terms = {
            "starts_at": now - dt.timedelta(minutes=10),
            "ends_at": now + dt.timedelta(hours=1),
            "bid_increment": Decimal("50.00"),
        }
        terms.update(overrides)
        lot = factories.make_lot(seller=collector, status="pending_review", **terms)
        lot_services.lot_review(actor=factories.make_admin(), lot_id=lot.pk, decision="approve")
        lot = Lot.objects.get(pk=lot.pk)
        assert lot.status == "live"
        return lot

    return make


@pytest.fixture
def processors(db):
    """processors(n) -> n verified processor users, each of its own company."""

    def make(n):
        return [factories.make_member(Company.Role.PROCESSOR, username=f"proc{i}") for i in range(1, n + 1)]

    return make
