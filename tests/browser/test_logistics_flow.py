"""A winner books a pickup from the quotes, the carrier accepts it and drives it to delivered,
the processor records the weighbridge ticket, and an anonymous visitor's trace page shows each
step of the chain of custody."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Company
from logistics.models import Booking, Vehicle
from tests import factories
from tests.logistics.conftest import make_awarded_lot, make_vehicle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.form button[type=submit]")
    expect(page.locator(".nav-user")).to_have_text(username)


def test_pickup_from_booking_to_weighing_on_the_trace_page(new_page, settings):
    settings.PAYMENTS_STEPS_IN_BACKGROUND = False
    seller = factories.make_member(Company.Role.COLLECTOR, username="wang_seller")
    winner = factories.make_member(Company.Role.PROCESSOR, username="liu_winner")
    carrier = factories.make_member(Company.Role.CARRIER, username="ma_carrier")
    truck = make_vehicle(carrier, type=Vehicle.Type.TRUCK_13, capacity_t=Decimal("32.00"), plate="黑A88888")
    lot = make_awarded_lot(seller=seller, winner=winner)

    # The winner asks for quotes for the proposed slot and books the carrier's truck.
    buyer = new_page()
    _log_in(buyer, "liu_winner")
    buyer.goto(f"/logistics/lots/{lot.pk}/book/")
    buyer.click("button[data-action=quote]")
    quote = buyer.locator("[data-testid=quotes] li.quote")
    expect(quote).to_have_count(1)
    expect(quote).to_contain_text(carrier.company.name)
    quote.locator("button[data-action=book]").click()
    booking = Booking.objects.get(lot=lot)
    expect(buyer).to_have_url(re.compile(rf"/logistics/bookings/{booking.pk}/$"))
    expect(buyer.locator("[data-booking-status]")).to_have_attribute("data-booking-status", "requested")

    # The carrier accepts and advances it, step by step.
    driver = new_page()
    _log_in(driver, "ma_carrier")
    driver.goto("/logistics/jobs/")
    driver.click(f"[data-group=requested] [data-booking='{booking.pk}'] a")
    driver.click("button[data-action=accept]")
    expect(driver.locator("[data-booking-status]")).to_have_attribute("data-booking-status", "accepted")
    for status in ("picked_up", "in_transit", "delivered"):
        driver.click(f"button[data-action=advance][data-next={status}]")
        expect(driver.locator("[data-booking-status]")).to_have_attribute("data-booking-status", status)
    expect(driver.locator("[data-testid=timeline] li")).to_have_count(5)

    # The processor records the weighbridge ticket; net follows gross − tare.
    buyer.reload()
    buyer.fill("input[name=ticket_no]", "PF-0001")
    buyer.fill("input[name=gross]", "44.900")
    buyer.fill("input[name=tare]", "15.300")
    expect(buyer.locator("input[name=net]")).to_have_value("29.600")
    buyer.click("button[data-action=weigh]")
    expect(buyer.locator("[data-booking-status]")).to_have_attribute("data-booking-status", "weighed")
    expect(buyer.locator("[data-testid=net]")).to_have_text("29.6")

    # Anyone sees the chain of custody, without addresses or plates.
    visitor = new_page()
    visitor.goto(f"/trace/{lot.code}/")
    events = visitor.locator("[data-testid=trace-events] li")
    for kind in ("listed", "approved", "requested", "accepted", "picked_up", "in_transit", "delivered", "weighed"):
        expect(events.locator(f"xpath=self::li[@data-event='{kind}']")).to_have_count(1)
    expect(visitor.locator("[data-testid=ledger-verified]")).to_have_text("yes")
    text = visitor.content()
    assert lot.address not in text and truck.plate not in text and booking.deliver_address not in text
