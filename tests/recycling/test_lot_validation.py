"""Terms a lot must obey: each broken rule is a 400 with a clear code, and nothing is written."""

import datetime as dt
from decimal import Decimal

import pytest

from core.models import AuditEntry
from recycling import services
from recycling.models import Lot
from tests import factories

pytestmark = pytest.mark.django_db


def _json(terms):
    terms = dict(terms)
    if hasattr(terms.get("category"), "code"):
        terms["category"] = terms["category"].code
    return {
        k: (v.isoformat() if hasattr(v, "isoformat") else (None if v is None else str(v))) for k, v in terms.items()
    }


def _broken(**overrides):
    terms = factories.lot_terms()
    for key, value in overrides.items():
        terms[key] = value(terms) if callable(value) else value
    return _json(terms)


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"quantity": "0"}, "invalid_quantity", "quantity"),
        ({"quantity": "-3"}, "invalid_quantity", "quantity"),
        ({"start_price": "0"}, "invalid_price", "start_price"),
        ({"start_price": "3000000001.00"}, "invalid_price", "start_price"),  # 30 t: over ¥90 billion a lot
        ({"ends_at": lambda t: t["starts_at"]}, "invalid_schedule", "ends_at"),
        ({"ends_at": lambda t: t["starts_at"] - dt.timedelta(hours=1)}, "invalid_schedule", "ends_at"),
        ({"reserve_price": "2299.99"}, "invalid_reserve", "reserve_price"),
        ({"deposit": "1000000.00"}, "invalid_price", "deposit"),  # over one card payment (Stripe's maximum)
        ({"bid_increment": "0"}, "invalid_increment", "bid_increment"),
        ({"bid_increment": "-10"}, "invalid_increment", "bid_increment"),
        ({"pickup_from": lambda t: t["ends_at"] - dt.timedelta(minutes=1)}, "invalid_pickup_window", "pickup_from"),
        ({"pickup_until": lambda t: t["pickup_from"]}, "invalid_pickup_window", "pickup_until"),
        ({"latitude": "39.904200", "longitude": "116.407400"}, "outside_service_area", "latitude"),  # Beijing
        ({"latitude": "45.756967", "longitude": None}, "validation_error", "latitude"),
        ({"quantity": "abc"}, "validation_error", "quantity"),
        ({"category": "no-such-category"}, "validation_error", "category"),
        ({"district": "chaoyang"}, "validation_error", "district"),
        ({"format": "dutch"}, "validation_error", "format"),
        ({"starts_at": "tomorrow"}, "validation_error", "starts_at"),
    ],
)
def test_broken_terms_are_refused(api, collector, overrides, code, field):
    response = api.as_user(collector).post("/api/v1/lots/", _broken(**overrides), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    assert field in body["fields"]
    assert Lot.objects.count() == 0
    assert not AuditEntry.objects.filter(target_type="lot").exists()


def test_coordinates_in_harbin_are_accepted_and_public_sees_them_rounded(api, collector):
    terms = _broken(latitude="45.756967", longitude="126.642464")
    response = api.as_user(collector).post("/api/v1/lots/", terms, format="json")
    assert response.status_code == 201
    assert response.json()["latitude"] == "45.756967"  # the seller sees its own exact place


def test_missing_required_terms_name_each_field(api, collector):
    response = api.as_user(collector).post("/api/v1/lots/", {"title": "x"}, format="json")
    assert response.status_code == 400
    # The pickup window is optional: it defaults from the schedule (test_lot_api_terms.py).
    assert set(response.json()["fields"]) == {"category", "quantity", "start_price", "starts_at", "ends_at"}


def test_patch_is_validated_against_the_whole_lot(api, collector):
    lot = factories.make_lot(seller=collector, reserve_price=Decimal("2500.00"))
    response = api.as_user(collector).patch(f"/api/v1/lots/{lot.pk}/", {"start_price": "2600.00"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_reserve")
    lot.refresh_from_db()
    assert lot.start_price == Decimal("2300.00")


def test_default_deposit_follows_price_until_set_explicitly(collector):
    lot = factories.make_lot(seller=collector)
    assert lot.deposit == Decimal("6900.00")
    lot = services.lot_update(actor=collector, lot_id=lot.pk, quantity=Decimal("10"))
    assert lot.deposit == Decimal("2300.00")
    lot = services.lot_update(actor=collector, lot_id=lot.pk, deposit=Decimal("0.00"))
    lot = services.lot_update(actor=collector, lot_id=lot.pk, quantity=Decimal("20"))
    assert lot.deposit == Decimal("0.00")


def test_the_default_deposit_is_at_most_what_one_card_payment_can_hold(collector):
    # 10 % of 2,300.00 × 5,000 t would be 1,150,000.00; one Stripe payment takes 999,999.99.
    lot = factories.make_lot(seller=collector, quantity=Decimal("5000"))
    assert lot.deposit == Decimal("999999.99")
    lot = services.lot_update(actor=collector, lot_id=lot.pk, deposit=Decimal("999999.99"))
    assert lot.deposit == Decimal("999999.99")


@pytest.mark.parametrize(
    ("text", "warned"),
    [
        ("联系电话 138 1234 5678 随时看货", True),
        ("电话13812345678", True),
        ("座机 0451-86661234", True),
        ("加微信 scrap_hrb88 详谈", True),
        ("vx: hrbsteel2026", True),
        ("QQ 12345678", True),
        ("厚度 6mm 以上，约 30 吨，2026 年 11 月拆除", False),
    ],
)
def test_off_platform_contacts_in_the_description_warn_the_admin(api, collector, coop_admin, text, warned):
    lot = factories.make_lot(seller=collector, status="pending_review", description=text)
    assert bool(lot.contact_warning) is warned
    seen_by_admin = api.as_user(coop_admin).get(f"/api/v1/lots/{lot.pk}/").json()["contact_warning"]
    assert bool(seen_by_admin) is warned
    assert api.as_user(collector).get(f"/api/v1/lots/{lot.pk}/").json()["contact_warning"] is None
