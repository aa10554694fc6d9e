"""The demo data holds a lot at each logistics stage, through the services, once."""

from __future__ import annotations

import pytest

from accounts.models import Company
from auctions.selectors import ledger_verify
from logistics.demo import load_demo_logistics
from logistics.models import Booking, Vehicle
from logistics.selectors import plan_days
from tests import factories

pytestmark = pytest.mark.django_db


def test_demo_logistics_has_every_stage_and_is_idempotent(settings, client):
    settings.LOGISTICS_ROUTE_SECONDS = 0.2
    admin = factories.make_admin()
    carrier = factories.make_member(Company.Role.CARRIER, username="carrier1")
    collectors = [factories.make_member(Company.Role.COLLECTOR, username=f"collector{n}") for n in (1, 2, 3)]
    processors = [factories.make_member(Company.Role.PROCESSOR, username=f"processor{n}") for n in (1, 2)]

    made = load_demo_logistics(admin=admin, carrier=carrier, collectors=collectors, processors=processors)
    again = load_demo_logistics(admin=admin, carrier=carrier, collectors=collectors, processors=processors)

    assert (made, again) == (8, 0)
    assert Vehicle.objects.filter(carrier=carrier.company).count() == 7
    statuses = sorted(Booking.objects.values_list("status", flat=True))
    assert statuses == sorted(
        ["requested", "accepted", "accepted", "accepted", "picked_up", "in_transit", "delivered", "weighed"]
    )
    assert set(Booking.objects.values_list("carrier_id", flat=True)) == {carrier.company_id}
    assert len(plan_days(carrier.company_id)) == 1
    assert ledger_verify() == []
    client.force_login(carrier)
    board = client.get("/logistics/jobs/").content.decode()
    assert 'data-testid="optimised-km"' in board
    assert 'data-testid="plan-stops"' in board
