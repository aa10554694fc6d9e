"""Demo lots and wanted requests for `manage.py load_demo`, so the board looks alive.

Everything goes through the services (listing, review, bids, close), so every demo lot has a
ledger that verifies. Past auctions (for the market chart) are run now and then moved back in
time: only `closed_at`, `starts_at`, `ends_at` and `scheduled_end` are shifted, never the
ledger. Idempotent: a lot is made once per (seller, title); the "live now" lot is renewed
whenever the previous one has less than 50 minutes left, so a visitor can always bid.
Demo lots carry no deposit, so bidding needs no card.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import User
from auctions import services as auction_services
from recycling import services
from recycling.models import Category, Lot, WantedRequest

D = Decimal

# (title, category, quantity, start price, district, description)
LISTINGS = [
    (
        "拆迁重废钢 30 吨",
        "steel-heavy",
        "30",
        "2350",
        "daoli",
        "厂房拆除的工字钢、槽钢，厚度 6mm 以上，已切割至 1.2 米以内。",
    ),
    ("机加工钢屑 12 吨", "steel-turnings", "12", "1800", "pingfang", "数控车间钢屑，含油量低，吨袋包装。"),
    ("光亮铜线 2.5 吨", "copper-bright", "2.5", "58000", "nangang", "电缆剥皮光亮铜，无氧化，可现场看货。"),
    ("超市黄板纸 20 吨", "paper-occ", "20", "1450", "xiangfang", "连锁超市回收纸箱，打包压块，干燥无杂质。"),
    ("PET 瓶砖 8 吨", "plastic-pet", "8", "3600", "songbei", "矿泉水瓶压块，已去盖去标，透明为主。"),
    (
        "废铅酸蓄电池 5 吨",
        "battery-lead-acid",
        "5",
        "8200",
        "hulan",
        "汽车启动电池，完整无破损。需持危险废物经营许可证。",
    ),
    ("载重胎 15 吨", "tyre-truck", "15", "900", "acheng", "物流车队更换的旧轮胎，无钢丝外露。"),
    ("废旧衣物 6 吨", "textile-blend", "6", "1200", "daowai", "社区回收箱衣物，已分拣。"),
    ("生铝边角料 4 吨", "aluminium-cast", "4", "13500", "shuangcheng", "压铸件边角料，成分稳定。"),
    ("报纸书本纸 10 吨", "paper-news", "10", "1650", "nangang", "学校、机关回收报纸和书本纸。"),
]

WANTED = [
    ("processor1", "steel", "10", "100", "2600", ["daoli", "pingfang", "xiangfang"]),
    ("processor2", "paper", "5", "50", "1700", []),
    ("processor3", "plastics", "2", "30", "3900", ["songbei", "hulan"]),
    ("processor4", "nonferrous", "1", "20", "60000", []),
]


def _photo(label: str, colour: tuple[int, int, int]) -> SimpleUploadedFile:
    image = Image.new("RGB", (800, 600), colour)
    draw = ImageDraw.Draw(image)
    for n in range(0, 800, 40):
        draw.line([(n, 600), (n + 200, 0)], fill=tuple(min(255, c + 25) for c in colour), width=6)
    draw.rectangle([40, 500, 760, 570], fill=(255, 255, 255))
    draw.text((60, 520), label, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return SimpleUploadedFile("demo.jpg", out.getvalue(), content_type="image/jpeg")


def _terms(index: int, now: dt.datetime, *, starts: dt.timedelta, length: dt.timedelta) -> dict:
    title, category, quantity, price, district, description = LISTINGS[index % len(LISTINGS)]
    starts_at = (now + starts).replace(second=0, microsecond=0)
    ends_at = starts_at + length
    return {
        "title": title,
        "category": Category.objects.get(code=category),
        "quantity": D(quantity),
        "start_price": D(price),
        "district": district,
        "description": description,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "pickup_from": ends_at + dt.timedelta(days=1),
        "pickup_until": ends_at + dt.timedelta(days=10),
        "deposit": D("0.00"),
    }


def _list(seller: User, terms: dict, *, photo: bool = True) -> Lot:
    lot = services.lot_create(actor=seller, **terms)
    if photo:
        rng = random.Random(lot.pk)
        colour = (rng.randint(60, 160), rng.randint(60, 160), rng.randint(60, 160))
        services.lot_photo_add(actor=seller, lot_id=lot.pk, upload=_photo(lot.code, colour))
    return lot


def _publish(lot: Lot, seller: User, admin: User) -> Lot:
    services.lot_submit(actor=seller, lot_id=lot.pk)
    return services.lot_review(actor=admin, lot_id=lot.pk, decision="approve")


def _bid_up(lot: Lot, bidders: list[User], rounds: int) -> None:
    lot.refresh_from_db()
    for n in range(rounds):
        lot.refresh_from_db()
        amount = auction_services.minimum_next_bid(lot)
        auction_services.bid_place(actor=bidders[n % len(bidders)], lot_id=lot.pk, amount=amount)


def _exists(seller: User, title: str) -> bool:
    return Lot.objects.filter(seller_id=seller.company_id, title=title).exists()


def load_demo_lots(*, admin: User, collectors: list[User], processors: list[User]) -> int:
    """Create what is missing; returns how many lots were made."""
    now = timezone.now()
    made = 0
    steel_buyers = processors[:2]

    # Past auctions over the last months: awarded (market prices) and one unsold.
    for week in range(1, 13):
        for index in (0, 3, 4):
            title = f"{LISTINGS[index][0]} · 第{week}期"
            seller = collectors[index % len(collectors)]
            if _exists(seller, title):
                continue
            with transaction.atomic():
                terms = _terms(index, now, starts=dt.timedelta(minutes=-30), length=dt.timedelta(hours=1))
                terms["title"] = title
                terms["start_price"] = terms["start_price"] + D(random.Random(week * 7 + index).randint(-6, 6) * 50)
                lot = _list(seller, terms, photo=False)
                _publish(lot, seller, admin)
                _bid_up(lot, steel_buyers, rounds=(week % 4) + 1)
                shift = dt.timedelta(weeks=week, hours=index)
                Lot.objects.filter(pk=lot.pk).update(ends_at=now - dt.timedelta(seconds=1))
                auction_services.lot_close(lot_id=lot.pk)
                closed = Lot.objects.get(pk=lot.pk)
                Lot.objects.filter(pk=lot.pk).update(
                    starts_at=closed.starts_at - shift,
                    ends_at=closed.ends_at - shift,
                    scheduled_end=closed.scheduled_end - shift,
                    closed_at=closed.closed_at - shift,
                    published_at=closed.published_at - shift,
                    pickup_from=closed.pickup_from - shift,
                    pickup_until=closed.pickup_until - shift,
                )
            made += 1
    title = "库存废塑料混合料 3 吨（流拍）"
    if not _exists(collectors[2], title):
        with transaction.atomic():
            terms = _terms(4, now, starts=dt.timedelta(minutes=-30), length=dt.timedelta(hours=1))
            terms.update(title=title, reserve_price=terms["start_price"] + D("500"))
            lot = _list(collectors[2], terms, photo=False)
            _publish(lot, collectors[2], admin)
            _bid_up(lot, processors[2:3], rounds=1)
            Lot.objects.filter(pk=lot.pk).update(ends_at=now - dt.timedelta(seconds=1))
            auction_services.lot_close(lot_id=lot.pk)
        made += 1

    # Live now: one ends within the hour (renewed on every run when it has < 50 min left).
    live_now = (
        Lot.objects.filter(seller_id=collectors[0].company_id, status=Lot.Status.LIVE, title__startswith=LISTINGS[0][0])
        .order_by("-ends_at")
        .first()
    )
    if live_now is None or live_now.ends_at < now + dt.timedelta(minutes=50):
        with transaction.atomic():
            terms = _terms(0, now, starts=dt.timedelta(minutes=-5), length=dt.timedelta(minutes=65))
            terms["bid_increment"] = D("50.00")
            lot = _list(collectors[0], terms)
            _publish(lot, collectors[0], admin)
            _bid_up(lot, steel_buyers, rounds=3)
        made += 1
    for index, hours in ((3, 20), (8, 30), (2, 47)):
        seller = collectors[index % len(collectors)]
        if Lot.objects.filter(seller_id=seller.company_id, title=LISTINGS[index][0], status=Lot.Status.LIVE).exists():
            continue
        with transaction.atomic():
            terms = _terms(index, now, starts=dt.timedelta(hours=-1), length=dt.timedelta(hours=hours))
            if index == 2:
                terms["format"] = Lot.Format.SEALED
            lot = _list(seller, terms)
            _publish(lot, seller, admin)
            _bid_up(lot, processors[1:] if index != 2 else processors, rounds=2)
        made += 1

    # Scheduled, pending review (one with an off-platform contact), rejected, draft, withdrawn.
    plans = [
        (5, "scheduled", dt.timedelta(days=1), dt.timedelta(days=2)),
        (6, "scheduled", dt.timedelta(days=2), dt.timedelta(days=1)),
        (7, "pending_review", dt.timedelta(days=1), dt.timedelta(days=1)),
        (9, "rejected", dt.timedelta(days=3), dt.timedelta(days=1)),
        (1, "draft", dt.timedelta(days=4), dt.timedelta(days=1)),
        (8, "withdrawn", dt.timedelta(days=1), dt.timedelta(days=1)),
    ]
    for index, status, starts, length in plans:
        seller = collectors[index % len(collectors)]
        title = LISTINGS[index][0] if status != "withdrawn" else f"{LISTINGS[index][0]}（已撤回）"
        if (
            _exists(seller, title)
            and Lot.objects.filter(seller_id=seller.company_id, title=title, status=status).exists()
        ):
            continue
        with transaction.atomic():
            terms = _terms(index, now, starts=starts, length=length)
            terms["title"] = title
            if status == "pending_review":
                terms["description"] += " 看货请加微信 hrb_scrap_88。"
            lot = _list(seller, terms)
            if status == "draft":
                made += 1
                continue
            services.lot_submit(actor=seller, lot_id=lot.pk)
            if status == "rejected":
                services.lot_review(
                    actor=admin, lot_id=lot.pk, decision="reject", reason="照片与描述不符，请补充现场照片。"
                )
            elif status in ("scheduled", "withdrawn"):
                services.lot_review(actor=admin, lot_id=lot.pk, decision="approve")
                if status == "withdrawn":
                    services.lot_withdraw(actor=admin, lot_id=lot.pk, reason="卖方重复发布。")
        made += 1

    for username, category, qmin, qmax, price, districts in WANTED:
        user = next((p for p in processors if p.username == username), None)
        if user is None or WantedRequest.objects.filter(company_id=user.company_id, category__code=category).exists():
            continue
        services.wanted_create(
            actor=user,
            category=category,
            quantity_min=D(qmin),
            quantity_max=D(qmax),
            max_unit_price=D(price),
            districts=districts,
            valid_until=timezone.localdate() + dt.timedelta(days=60),
            note="长期收购，量大从优，可上门提货。",
        )
    return made
