from decimal import Decimal

import pytest

from accounts.models import Company
from tests import factories


@pytest.fixture
def live_lot(collector):
    """make_live_lot(**terms): a live English lot (start 2300.00/t, increment 50.00 unless given)."""

    def make(**overrides):
        # The engine's tests bid without deposit holds (tests/payments covers deposits).
        return factories.make_live_lot(seller=collector, **{"deposit": Decimal("0.00"), **overrides})

    return make


@pytest.fixture
def bidders(db):
    """bidders(n) -> n verified processor users, each of its own company."""

    def make(n):
        return [factories.make_member(Company.Role.PROCESSOR, username=f"bidder{i}") for i in range(1, n + 1)]

    return make
