import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Company
from recycling.models import Lot
from tests import factories


@pytest.fixture
def live_lot(collector):
    """make_live_lot(**terms): a live English lot (start 2300.00/t, increment 50.00 unless given)."""

    def make(**overrides):
        now = timezone.now()
        terms = {
            "starts_at": now - dt.timedelta(minutes=10),
            "ends_at": now + dt.timedelta(hours=1),
            "bid_increment": Decimal("50.00"),
            # The engine's tests bid without deposit holds (tests/payments covers deposits).
            "deposit": Decimal("0.00"),
        }
        terms.update(overrides)
        lot = factories.make_lot(seller=collector, status="pending_review", **terms)
        from recycling import services

        services.lot_review(actor=factories.make_admin(), lot_id=lot.pk, decision="approve")
        lot = Lot.objects.get(pk=lot.pk)
        assert lot.status == "live"
        return lot

    return make


@pytest.fixture
def bidders(db):
    """bidders(n) -> n verified processor users, each of its own company."""

    def make(n):
        return [factories.make_member(Company.Role.PROCESSOR, username=f"bidder{i}") for i in range(1, n + 1)]

    return make
