"""Demo logistics for `manage.py load_demo`: a fleet for the demo carrier and an awarded lot at
each logistics stage (requested, accepted — three on one day, for the route plan — picked up,
in transit, delivered, weighed).

Everything goes through the services (listing, review, bid, close, quote, booking, steps,
weighing), so every demo lot's ledger verifies and its trace page shows real events.
Idempotent: vehicles by plate, lots by (seller, title).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from auctions import services as auction_services
from logistics import services
from logistics.models import Vehicle
from recycling import services as lot_services
from recycling.models import Category, Lot

D = Decimal
CITY = ["daoli", "nangang", "daowai", "pingfang", "songbei", "xiangfang", "hulan", "acheng", "shuangcheng"]

# plate, type, capacity t, rate ¥/km, minimum ¥, hazardous permit
FLEET = [
    ("黑A3M801", Vehicle.Type.VAN, "1.50", "3.50", "80.00", False),
    ("黑A3M802", Vehicle.Type.TRUCK_4_2, "3.00", "4.80", "120.00", False),
    ("黑A3M803", Vehicle.Type.TRUCK_6_8, "8.00", "6.50", "180.00", False),
    ("黑A3M804", Vehicle.Type.TRUCK_9_6, "18.00", "8.80", "260.00", True),
    ("黑A3M805", Vehicle.Type.TRUCK_13, "32.00", "11.50", "380.00", False),
    ("黑A3M806", Vehicle.Type.ROLL_OFF, "12.00", "7.20", "200.00", False),
    ("黑A3M807", Vehicle.Type.TANKER, "10.00", "9.60", "300.00", True),
]

# The processors' yards (where lots are delivered), approximately.
YARDS = {
    "processor1": ("平房区哈南工业新城星海路18号", D("45.605000"), D("126.642000")),
    "processor2": ("阿城区经济开发区延川大街9号", D("45.545000"), D("126.970000")),
}

# stage, title, category, quantity t, start price, district, lot lat/lng, winner, slot (days ahead, hour, hours)
STAGES = [
    (
        "requested",
        "厂房拆除角钢 14 吨",
        "steel-heavy",
        "14",
        "2320",
        "daoli",
        ("45.7712", "126.5904"),
        "processor1",
        (2, 9, 3),
    ),
    (
        "accepted",
        "钢结构边角料 9 吨",
        "steel-heavy",
        "9",
        "2280",
        "daowai",
        ("45.7921", "126.6613"),
        "processor1",
        (1, 8, 3),
    ),
    (
        "accepted",
        "废旧钢管 6 吨",
        "steel-heavy",
        "6",
        "2250",
        "xiangfang",
        ("45.7088", "126.6901"),
        "processor1",
        (1, 11, 3),
    ),
    (
        "accepted",
        "机床底座铸铁 11 吨",
        "steel-heavy",
        "11",
        "2150",
        "nangang",
        ("45.7480", "126.6550"),
        "processor1",
        (1, 14, 3),
    ),
    (
        "picked_up",
        "拆解钢筋头 16 吨",
        "steel-heavy",
        "16",
        "2300",
        "songbei",
        ("45.8120", "126.5480"),
        "processor1",
        (3, 9, 3),
    ),
    (
        "in_transit",
        "超市纸箱压块 12 吨",
        "paper-occ",
        "12",
        "1460",
        "nangang",
        ("45.7560", "126.6800"),
        "processor2",
        (3, 9, 3),
    ),
    (
        "delivered",
        "印刷厂白边纸 7 吨",
        "paper-occ",
        "7",
        "1500",
        "daoli",
        ("45.7650", "126.6050"),
        "processor2",
        (4, 9, 3),
    ),
    (
        "weighed",
        "设备拆解废钢 20 吨",
        "steel-heavy",
        "20",
        "2330",
        "pingfang",
        ("45.6100", "126.6200"),
        "processor1",
        (4, 13, 3),
    ),
]


def _fleet(carrier: User) -> None:
    permit_until = timezone.localdate() + dt.timedelta(days=365)
    for plate, kind, capacity, rate, minimum, hazardous in FLEET:
        if Vehicle.objects.filter(plate=plate).exists():
            continue
        services.vehicle_create(
            actor=carrier,
            type=kind,
            capacity_t=D(capacity),
            plate=plate,
            hazardous_permit_until=permit_until if hazardous else None,
            districts=CITY,
            rate_per_km=D(rate),
            min_charge=D(minimum),
        )


def _awarded_lot(
    seller: User,
    winner: User,
    admin: User,
    *,
    title: str,
    category: str,
    quantity: str,
    price: str,
    district: str,
    where: tuple[str, str],
) -> Lot:
    now = timezone.now().replace(second=0, microsecond=0)
    lot = lot_services.lot_create(
        actor=seller,
        title=title,
        category=Category.objects.get(code=category),
        quantity=D(quantity),
        start_price=D(price),
        district=district,
        latitude=D(where[0]),
        longitude=D(where[1]),
        description="物流演示：成交后由平台预约车辆提货、过磅、溯源。",
        starts_at=now - dt.timedelta(minutes=30),
        ends_at=now + dt.timedelta(minutes=30),
        pickup_from=now + dt.timedelta(minutes=31),
        pickup_until=now + dt.timedelta(days=10),
        deposit=D("0.00"),
    )
    lot_services.lot_submit(actor=seller, lot_id=lot.pk)
    lot_services.lot_review(actor=admin, lot_id=lot.pk, decision="approve")
    auction_services.bid_place(actor=winner, lot_id=lot.pk, amount=D(price))
    Lot.objects.filter(pk=lot.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    auction_services.lot_close(lot_id=lot.pk)
    return Lot.objects.get(pk=lot.pk)


def _slot(days: int, hour: int, hours: int) -> tuple[dt.datetime, dt.datetime]:
    day = timezone.localtime() + dt.timedelta(days=days)
    start = day.replace(hour=hour, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(hours=hours)


def load_demo_logistics(*, admin: User, carrier: User, collectors: list[User], processors: list[User]) -> int:
    """Create what is missing; returns how many demo lots were booked."""
    _fleet(carrier)
    winners = {user.username: user for user in processors}
    made = 0
    for index, (stage, title, category, quantity, price, district, where, winner_name, slot) in enumerate(STAGES):
        seller = collectors[index % len(collectors)]
        winner = winners.get(winner_name) or processors[0]
        if Lot.objects.filter(seller_id=seller.company_id, title=title).exists():
            continue
        with transaction.atomic():
            lot = _awarded_lot(
                seller,
                winner,
                admin,
                title=title,
                category=category,
                quantity=quantity,
                price=price,
                district=district,
                where=where,
            )
            address, lat, lng = YARDS.get(winner.username, YARDS["processor1"])
            start, end = _slot(*slot)
            quotes = services.quotes_request(
                actor=winner, lot_id=lot.pk, slot_start=start, slot_end=end, deliver_lat=lat, deliver_lng=lng
            )
            mine = [q for q in quotes if q.carrier_id == carrier.company_id] or quotes
            if not mine:
                continue
            chosen = min(mine, key=lambda q: (q.trips, q.price))
            booking = services.booking_create(
                actor=winner,
                lot_id=lot.pk,
                quote_id=chosen.pk,
                slot_start=start,
                slot_end=end,
                deliver_address=address,
                deliver_lat=lat,
                deliver_lng=lng,
            )
            order = ["requested", "accepted", "picked_up", "in_transit", "delivered", "weighed"]
            reached = order.index(stage)
            if reached >= 1:
                services.booking_accept(actor=carrier, booking_id=booking.pk)
            for step in ("picked_up", "in_transit", "delivered")[: max(0, reached - 1)]:
                services.booking_advance(actor=carrier, booking_id=booking.pk, status=step)
            if stage == "weighed":
                net = (lot.quantity * D("0.985")).quantize(D("0.001"))
                services.weighing_record(
                    actor=winner,
                    booking_id=booking.pk,
                    ticket_no=f"PF-{timezone.localdate():%Y%m%d}-{booking.pk:04d}",
                    gross=net + D("16.400"),
                    tare=D("16.400"),
                    net=net,
                    deductions=[{"kind": "impurities", "percent": D("1.00")}],
                )
        made += 1
    return made
