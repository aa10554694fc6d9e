"""Who sees which lot, and which of its fields."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import Company
from recycling.models import Lot
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", ["draft", "pending_review", "rejected"])
def test_unpublished_lots_are_404_to_everyone_but_seller_and_admin(api, collector, processor, coop_admin, status):
    lot = factories.make_lot(seller=collector, status=status)
    path = f"/api/v1/lots/{lot.pk}/"
    assert APIClient().get(path).status_code == 404
    assert api.as_user(processor).get(path).status_code == 404
    assert api.as_user(collector).get(path).status_code == 200
    assert api.as_user(coop_admin).get(path).status_code == 200
    assert lot.pk not in [item["id"] for item in APIClient().get("/api/v1/lots/?status=" + status).json()["results"]]


@pytest.mark.parametrize("status", ["scheduled", "live", "awarded", "unsold", "withdrawn"])
def test_published_lots_are_public(collector, status):
    lot = factories.make_lot(seller=collector, status=status)
    assert APIClient().get(f"/api/v1/lots/{lot.pk}/").status_code == 200


def test_reserve_price_only_for_seller_and_admin(api, collector, processor, coop_admin):
    lot = factories.make_lot(seller=collector, status="live", reserve_price=Decimal("2500.00"))
    path = f"/api/v1/lots/{lot.pk}/"
    public = APIClient().get(path).json()
    assert public["reserve_price"] is None and public["reserve_met"] is False
    assert api.as_user(processor).get(path).json()["reserve_price"] is None
    assert api.as_user(collector).get(path).json()["reserve_price"] == "2500.00"
    assert api.as_user(coop_admin).get(path).json()["reserve_price"] == "2500.00"


def test_contact_and_exact_address_only_for_cooperative_seller_and_winner_after_award(
    api, collector, processor, coop_admin
):
    lot = factories.make_lot(
        seller=collector, status="live", latitude=Decimal("45.756967"), longitude=Decimal("126.642464")
    )
    path = f"/api/v1/lots/{lot.pk}/"
    other = factories.make_member(Company.Role.PROCESSOR)
    for viewer in (None, processor, other):
        body = (api.as_user(viewer) if viewer else APIClient()).get(path).json()
        assert body["address"] is None and body["seller_contact"] is None
        assert body["latitude"] == "45.76" and body["longitude"] == "126.64"
        assert "86661234" not in str(body) and "13900000000" not in str(body)
    assert api.as_user(coop_admin).get(path).json()["seller_contact"] == {
        "phone": "13900000000",
        "address": "道里区新发镇工业园 8 号",
    }
    Lot.objects.filter(pk=lot.pk).update(status="awarded", winner=processor.company, final_price=Decimal("2400"))
    assert api.as_user(processor).get(path).json()["seller_contact"]["phone"] == "13900000000"
    assert api.as_user(other).get(path).json()["seller_contact"] is None


def test_mine_lists_every_status_of_my_company_only(api, collector):
    other = factories.make_member(Company.Role.COLLECTOR)
    mine = [factories.make_lot(seller=collector, status=s).pk for s in ("draft", "pending_review", "live")]
    factories.make_lot(seller=other, status="live")
    body = api.as_user(collector).get("/api/v1/lots/mine/").json()
    assert body["count"] == 3
    assert sorted(item["id"] for item in body["results"]) == sorted(mine)
