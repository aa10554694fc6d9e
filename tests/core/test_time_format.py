"""Every moment the API and the live frames write carries the platform's offset (+08:00),
whether it comes from a serializer, a hand-built body or an event payload (core.times.iso)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import Company
from auctions import selectors
from tests import factories

pytestmark = pytest.mark.django_db

MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(Z|[+-]\d\d:\d\d)?")


def _offsets(body) -> set[str]:
    return {match.group(1) for match in MOMENT.finditer(json.dumps(body, ensure_ascii=False))}


def test_api_bodies_and_live_frames_write_beijing_time(collector):
    lot = factories.make_live_lot(seller=collector, deposit=Decimal("0.00"))
    bidder = factories.make_member(Company.Role.PROCESSOR)
    api = APIClient()
    api.force_authenticate(bidder)

    placed = api.post(f"/api/v1/lots/{lot.pk}/bids/", {"amount": "2300.00"}, format="json").json()
    bodies = {
        "bid": placed,
        "lot": api.get(f"/api/v1/lots/{lot.pk}/").json(),
        "lots": api.get("/api/v1/lots/").json(),
        "bids": api.get(f"/api/v1/lots/{lot.pk}/bids/").json(),
        "ledger": api.get(f"/api/v1/lots/{lot.pk}/ledger/").json(),
        "trace": APIClient().get(f"/api/v1/lots/{lot.code}/trace/").json(),
        "snapshot": selectors.snapshot(lot_id=lot.pk, viewer=bidder),
        "replay": selectors.events_after(lot=lot, after_seq=0),
    }

    assert {name: _offsets(body) for name, body in bodies.items()} == {name: {"+08:00"} for name in bodies}
