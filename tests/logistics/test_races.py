"""Races on PostgreSQL, for real: winners of several lots booking the one truck for overlapping
slots at the same instant — exactly one booking holds it, the others get 409 slot_taken."""

from __future__ import annotations

import pytest

from core.errors import DomainError
from logistics.models import Booking, BookingVehicle
from tests.auctions.helpers_live import run_in_threads
from tests.logistics.conftest import book, make_awarded_lot, quote, slot_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_truck_booked_at_once_for_overlapping_slots_goes_to_one_booking(seller, winner, truck):
    lots = [make_awarded_lot(seller=seller, winner=winner) for _ in range(6)]
    quotes = [quote(winner, lot, slot_for(lot, start_hour=9 + n % 2))[0] for n, lot in enumerate(lots)]

    def attempt(lot, q):
        try:
            return book(winner, lot, q).pk
        except DomainError as exc:
            return exc.code

    results = run_in_threads(attempt, list(zip(lots, quotes, strict=True)))

    assert sum(isinstance(r, int) for r in results) == 1
    assert sorted(r for r in results if isinstance(r, str)) == ["slot_taken"] * 5
    assert Booking.objects.count() == 1
    assert BookingVehicle.objects.filter(vehicle=truck, released=False).count() == 1
