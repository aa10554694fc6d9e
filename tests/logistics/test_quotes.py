"""Quotes: hand-computed road distances and prices, capacity (several trips or vehicles),
service districts, hazardous permits, free vehicles only, who may ask."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Company
from core.errors import DomainError
from logistics import geo
from logistics.models import Quote, Vehicle
from recycling.models import Category
from tests import factories
from tests.logistics.conftest import (
    LOT_AT,
    ROAD_KM,
    YARD_AT,
    book,
    make_awarded_lot,
    make_vehicle,
    permit_document,
    quote,
    slot_for,
)

pytestmark = pytest.mark.django_db


def test_road_distance_is_haversine_times_the_road_factor():
    # 0.1° of latitude on one meridian: 6371.0088 × 0.1 × π/180 km.
    straight = 6371.0088 * 0.1 * math.pi / 180

    assert geo.haversine_km(LOT_AT, YARD_AT) == pytest.approx(straight, rel=1e-9)
    assert straight == pytest.approx(11.1195, abs=1e-4)
    assert geo.road_distance(LOT_AT, YARD_AT) == ROAD_KM  # 11.1195 × 1.3 = 14.455


def test_road_distance_across_harbin_by_hand():
    # Daoli (45.7617, 126.6169) to Acheng (45.5417, 126.9584), by hand on a flat map (fine
    # at this scale): north–south 0.22° × 111.195 km = 24.46 km; east–west 0.3415° × 111.195 km
    # × cos 45.65° = 26.54 km; √(24.46² + 26.54²) = 36.09 km; × 1.3 = 46.9 km on the road.
    km = geo.haversine_km(geo.DISTRICT_CENTRES["daoli"], geo.DISTRICT_CENTRES["acheng"])

    assert km == pytest.approx(36.09, abs=0.02)
    assert geo.road_distance(geo.DISTRICT_CENTRES["daoli"], geo.DISTRICT_CENTRES["acheng"]) == Decimal("46.9")


def test_the_road_factor_is_a_setting(settings):
    settings.LOGISTICS_ROAD_FACTOR = 1.0

    assert geo.road_distance(LOT_AT, YARD_AT) == Decimal("11.1")


def test_a_quote_prices_each_trip_at_rate_times_km_or_the_minimum(lot, winner, carrier_user):
    make_vehicle(carrier_user, capacity_t=Decimal("32.00"), type=Vehicle.Type.TRUCK_13, rate_per_km=Decimal("9.50"))
    other = factories.make_member(Company.Role.CARRIER)
    make_vehicle(
        other,
        capacity_t=Decimal("32.00"),
        type=Vehicle.Type.ROLL_OFF,
        rate_per_km=Decimal("6.00"),
        min_charge=Decimal("100.00"),
    )

    quotes = quote(winner, lot, slot_for(lot))

    # 14.5 km × 6.00 = 87.00 < minimum 100.00; 14.5 km × 9.50 = 137.75. Cheapest first.
    assert [(q.vehicle_type, q.trips, q.distance_km, q.price) for q in quotes] == [
        ("roll_off", 1, ROAD_KM, Decimal("100.00")),
        ("truck_13", 1, ROAD_KM, Decimal("137.75")),
    ]
    assert all(q.expires_at == q.created_at + dt.timedelta(minutes=30) for q in quotes)
    assert Quote.objects.count() == 2


def test_a_lot_bigger_than_a_truck_takes_several_trips(lot, winner, carrier_user):
    make_vehicle(carrier_user, capacity_t=Decimal("18.00"))  # 30 t lot: 2 loads

    [q] = quote(winner, lot, slot_for(lot, hours=4))

    assert (q.trips, q.price, len(q.loads)) == (2, Decimal("275.50"), 1)


def test_a_short_slot_needs_several_vehicles(lot, winner, carrier_user):
    # One round trip of 14.5 km at 40 km/h plus 2 × 30 min loading is 103.5 min: a one-hour
    # slot fits one load per vehicle, so 30 t need both 18 t trucks.
    make_vehicle(carrier_user, capacity_t=Decimal("18.00"))
    make_vehicle(carrier_user, capacity_t=Decimal("18.00"))

    [q] = quote(winner, lot, slot_for(lot, hours=1))

    assert (q.trips, len(q.loads), q.price) == (2, 2, Decimal("275.50"))


def test_no_vehicle_big_enough_gives_an_empty_list(lot, winner, carrier_user, api):
    make_vehicle(carrier_user, type=Vehicle.Type.VAN, capacity_t=Decimal("1.50"))  # 20 loads
    start, end = slot_for(lot)

    response = api.as_user(winner).get(
        f"/api/v1/lots/{lot.pk}/quotes/",
        {
            "slot_start": start.isoformat(),
            "slot_end": end.isoformat(),
            "deliver_to_lat": "45.8",
            "deliver_to_lng": "126.6",
        },
    )

    assert response.status_code == 200
    assert response.json() == []


def test_only_vehicles_serving_the_lots_district(lot, winner, carrier_user):
    make_vehicle(carrier_user, districts=["hulan", "songbei"])

    assert quote(winner, lot, slot_for(lot)) == []


def test_a_suspended_carrier_is_not_proposed(lot, winner, carrier_user, truck):
    Company.objects.filter(pk=carrier_user.company_id).update(status=Company.Status.SUSPENDED)

    assert quote(winner, lot, slot_for(lot)) == []


def test_hazardous_lots_need_a_permitted_vehicle_of_a_permitted_carrier(seller, winner, carrier_user):
    battery = Category.objects.get(code="battery-lead-acid")
    lot = make_awarded_lot(seller=seller, winner=winner, category=battery, quantity=Decimal("5.000"))
    slot = slot_for(lot)
    slot_day = timezone.localtime(slot[1]).date()
    plain = make_vehicle(carrier_user, type=Vehicle.Type.TRUCK_6_8, capacity_t=Decimal("8.00"))
    permitted = make_vehicle(
        carrier_user, type=Vehicle.Type.TANKER, capacity_t=Decimal("8.00"), hazardous_permit_until=slot_day
    )
    make_vehicle(
        carrier_user,
        type=Vehicle.Type.TRUCK_4_2,
        capacity_t=Decimal("8.00"),
        hazardous_permit_until=slot_day - dt.timedelta(days=1),  # expires before the slot
    )

    assert quote(winner, lot, slot) == []  # no company permit on file yet

    permit_document(carrier_user.company, expires_on=slot_day)
    quotes = quote(winner, lot, slot)

    assert [(q.vehicle_type, [load["vehicle"] for load in q.loads]) for q in quotes] == [("tanker", [permitted.pk])]
    assert plain.pk not in {load["vehicle"] for q in quotes for load in q.loads}


def test_an_expired_company_permit_counts_as_none(seller, winner, carrier_user):
    lot = make_awarded_lot(
        seller=seller, winner=winner, category=Category.objects.get(code="battery-lead-acid"), quantity=Decimal("5")
    )
    slot = slot_for(lot)
    day = timezone.localtime(slot[1]).date()
    make_vehicle(carrier_user, capacity_t=Decimal("8.00"), hazardous_permit_until=day)
    permit_document(carrier_user.company, expires_on=day - dt.timedelta(days=1))

    assert quote(winner, lot, slot) == []


def test_a_vehicle_booked_in_an_overlapping_slot_is_not_quoted(lot, seller, winner, carrier_user, truck):
    book(winner, lot, quote(winner, lot, slot_for(lot, start_hour=9))[0])
    other = make_awarded_lot(seller=seller, winner=winner)

    assert quote(winner, other, slot_for(other, start_hour=11)) == []
    assert len(quote(winner, other, slot_for(other, start_hour=12))) == 1  # 09–12 then 12–15: no overlap


def test_vehicle_type_filter(lot, winner, carrier_user, truck):
    make_vehicle(carrier_user, type=Vehicle.Type.TRUCK_13, capacity_t=Decimal("32.00"))

    quotes = quote(winner, lot, slot_for(lot), vehicle_type="truck_13")

    assert [q.vehicle_type for q in quotes] == ["truck_13"]


@pytest.mark.parametrize(
    ("which", "code"),
    [
        ("before", "slot_outside_window"),
        ("after", "slot_outside_window"),
        ("reversed", "invalid_slot"),
        ("too_long", "invalid_slot"),
    ],
)
def test_slots_outside_the_pickup_window_or_malformed_are_400(lot, winner, truck, which, code):
    hour = dt.timedelta(hours=1)
    slots = {
        "before": (lot.pickup_from - 2 * hour, lot.pickup_from + hour),
        "after": (lot.pickup_until - hour, lot.pickup_until + 2 * hour),
        "reversed": (lot.pickup_from + 3 * hour, lot.pickup_from + hour),
        "too_long": (lot.pickup_from + hour, lot.pickup_from + 14 * hour),
    }

    with pytest.raises(DomainError) as exc:
        quote(winner, lot, slots[which])

    assert (exc.value.status, exc.value.code) == (400, code)
    assert Quote.objects.count() == 0


def test_a_destination_outside_heilongjiang_is_400(lot, winner, truck):
    with pytest.raises(DomainError) as exc:
        quote(winner, lot, slot_for(lot), where=(Decimal("39.9"), Decimal("116.4")))

    assert exc.value.code == "outside_service_area"


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("other_processor", 403, "not_requester"),
        ("seller", 403, "not_requester"),
        ("carrier", 403, "not_requester"),
        ("pending", 403, "company_not_verified"),
    ],
)
def test_only_the_winner_asks_for_quotes(api, lot, seller, carrier_user, truck, who, status, code):
    users = {
        "anonymous": None,
        "other_processor": factories.make_member(Company.Role.PROCESSOR),
        "seller": seller,
        "carrier": carrier_user,
        "pending": factories.make_member(Company.Role.PROCESSOR, Company.Status.PENDING),
    }
    client = api.as_user(users[who]) if users[who] else api
    start, end = slot_for(lot)

    response = client.get(
        f"/api/v1/lots/{lot.pk}/quotes/",
        {
            "slot_start": start.isoformat(),
            "slot_end": end.isoformat(),
            "deliver_to_lat": "45.8",
            "deliver_to_lng": "126.6",
        },
    )

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Quote.objects.count() == 0


def test_when_the_seller_delivers_the_seller_asks(api, seller, winner, truck):
    lot = make_awarded_lot(seller=seller, winner=winner, seller_delivers=True)
    start, end = slot_for(lot)
    params = {
        "slot_start": start.isoformat(),
        "slot_end": end.isoformat(),
        "deliver_to_lat": "45.8",
        "deliver_to_lng": "126.6",
    }

    assert api.as_user(winner).get(f"/api/v1/lots/{lot.pk}/quotes/", params).json()["code"] == "not_requester"
    response = api.as_user(seller).get(f"/api/v1/lots/{lot.pk}/quotes/", params)

    assert response.status_code == 200
    [body] = response.json()
    assert set(body) >= {"quote_id", "carrier", "vehicle_type", "trips", "distance_km", "price", "expires_at"}
    assert (body["distance_km"], body["price"], body["trips"]) == ("14.5", "275.50", 2)


def test_a_lot_not_awarded_has_no_quotes(api, seller, winner, truck):
    lot = factories.make_lot(seller=seller, status="live")
    start, end = slot_for(lot)

    response = api.as_user(winner).get(
        f"/api/v1/lots/{lot.pk}/quotes/",
        {
            "slot_start": start.isoformat(),
            "slot_end": end.isoformat(),
            "deliver_to_lat": "45.8",
            "deliver_to_lng": "126.6",
        },
    )

    assert (response.status_code, response.json()["code"]) == (409, "not_awarded")


def test_quote_query_parameters_are_validated(api, lot, winner):
    response = api.as_user(winner).get(f"/api/v1/lots/{lot.pk}/quotes/", {"slot_start": "soon"})

    assert response.status_code == 400
    assert {"slot_start", "slot_end", "deliver_to_lat", "deliver_to_lng"} <= set(response.json()["fields"])
