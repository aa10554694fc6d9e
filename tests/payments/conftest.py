"""Deposits and payments run against localstripe (tests/payments/localstripe.py): a real HTTP
server speaking Stripe's API, started once per session on 127.0.0.1 and emptied per test."""

from __future__ import annotations

import pytest

from accounts.models import Company
from tests import factories
from tests.payments.localstripe import localstripe, localstripe_server  # noqa: F401  (fixtures)


@pytest.fixture
def deposit_lot(collector):
    """deposit_lot(**terms): a live English lot ending in an hour (start 2300.00/t × 30 t,
    increment 50.00) with the default deposit (10%: 6900.00) unless given."""

    def make(**overrides):
        return factories.make_live_lot(seller=collector, **overrides)

    return make


@pytest.fixture
def processors(db):
    """processors(n) -> n verified processor users, each of its own company."""

    def make(n):
        return [factories.make_member(Company.Role.PROCESSOR, username=f"proc{i}") for i in range(1, n + 1)]

    return make
