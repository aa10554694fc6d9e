"""Search benchmark: 100,000 lots in PostgreSQL, p50/p95 of the board's search API and home page.

    .venv/bin/python bench/search.py [--lots 100000] [--requests 300]

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/recycling_bench; the database is
created and migrated when missing, and filled once). Each request goes through Django's full
stack in-process (middleware, DRF, serializers, templates) with the test client. The baseline,
measured in the same run, is the bare SQL of the same search sent through psycopg: the ratio
says what the framework adds on top of the database work.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/recycling_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recycling.settings")
os.environ.setdefault("THROTTLE_ANON", "1000000/min")


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

WEIGHTS = {
    "steel": 35,
    "paper": 20,
    "plastics": 15,
    "nonferrous": 10,
    "tyres": 4,
    "weee": 4,
    "textiles": 4,
    "glass": 3,
    "batteries": 2,
    "elv": 2,
    "wood": 1,
}
DISTRICT_WEIGHTS = {
    "daoli": 14,
    "nangang": 14,
    "daowai": 10,
    "xiangfang": 12,
    "pingfang": 8,
    "songbei": 8,
    "hulan": 7,
    "acheng": 6,
    "shuangcheng": 6,
    "shangzhi": 3,
    "wuchang": 3,
    "yilan": 2,
    "fangzheng": 1,
    "binxian": 2,
    "bayan": 1,
    "mulan": 1,
    "tonghe": 1,
    "yanshou": 1,
}
STATUS_WEIGHTS = {
    "awarded": 50,
    "unsold": 14,
    "live": 5,
    "scheduled": 6,
    "withdrawn": 3,
    "draft": 10,
    "pending_review": 7,
    "rejected": 5,
}
ADJECTIVES = ["厂区", "拆迁", "库存", "打包", "分拣后", "整车", "散装", "压块", "超市回收", "工地", "车间", "仓库清理"]
PRICE = {"steel": 2400, "nonferrous": 40000, "paper": 1500, "plastics": 3500, "tyres": 900, "weee": 60, "elv": 3000}


def fill(total: int) -> None:
    from accounts.models import Company, User
    from accounts.validators import credit_code_check_char
    from recycling.models import Category, Lot

    existing = Lot.objects.count()
    if existing >= total:
        print(f"database already holds {existing} lots")
        return
    rng = random.Random(2026)
    sellers = []
    for n in range(40):
        body = f"91230100{n:09d}"
        company, _ = Company.objects.get_or_create(
            credit_code=body + credit_code_check_char(body),
            defaults={
                "name": f"基准回收公司{n}",
                "role": "collector",
                "status": "verified",
                "district": "daoli",
                "address": "x",
                "contact_phone": "13900000000",
            },
        )
        sellers.append(company)
    user, _ = User.objects.get_or_create(username="bench-seller", defaults={"company": sellers[0]})
    classes = {c.code: c for c in Category.objects.filter(parent=None)}
    grades: dict[str, list] = {code: list(c.grades.all()) or [c] for code, c in classes.items()}
    now = timezone.now()
    batch = []
    codes = list(WEIGHTS)
    districts = list(DISTRICT_WEIGHTS)
    statuses = list(STATUS_WEIGHTS)
    for n in range(existing, total):
        cls = rng.choices(codes, weights=WEIGHTS.values())[0]
        category = rng.choice(grades[cls])
        status = rng.choices(statuses, weights=STATUS_WEIGHTS.values())[0]
        if status in ("awarded", "unsold", "withdrawn"):
            ends = now - timezone.timedelta(days=rng.uniform(0, 720))
        elif status == "live":
            ends = now + timezone.timedelta(hours=rng.uniform(0.1, 72))
        else:
            ends = now + timezone.timedelta(days=rng.uniform(1, 30))
        starts = ends - timezone.timedelta(days=rng.uniform(1, 7))
        quantity = Decimal(str(round(rng.lognormvariate(2.5, 1.0), 3))) + Decimal("0.1")
        base = PRICE.get(cls, 1000)
        start_price = Decimal(base * rng.uniform(0.8, 1.1)).quantize(Decimal("1"))
        title = f"{rng.choice(ADJECTIVES)}{category.name} {quantity:.0f}{category.get_unit_display()}"
        description = f"{rng.choice(ADJECTIVES)}，{category.name}，质量稳定，可随时看货。编号 {n}"
        awarded = status == "awarded"
        batch.append(
            Lot(
                code=f"HRB-B-{n:07d}",
                seller=sellers[n % len(sellers)],
                created_by=user,
                title=title,
                category=category,
                quantity=quantity,
                unit=category.unit,
                description=description,
                district=rng.choices(districts, weights=DISTRICT_WEIGHTS.values())[0],
                address="x",
                start_price=start_price,
                deposit=Decimal("0"),
                starts_at=starts,
                ends_at=ends,
                scheduled_end=ends,
                pickup_from=ends + timezone.timedelta(days=1),
                pickup_until=ends + timezone.timedelta(days=5),
                status=status,
                current_price=start_price + 50 if awarded or status == "live" else None,
                final_price=start_price + 50 if awarded else None,
                bid_count=rng.randint(1, 30) if awarded else 0,
                search_text=f"{title}\n{description}".lower(),
                created_at=starts - timezone.timedelta(days=1),
                published_at=starts if status not in ("draft", "pending_review", "rejected") else None,
                closed_at=ends if status in ("awarded", "unsold", "withdrawn") else None,
            )
        )
        if len(batch) == 5000:
            Lot.objects.bulk_create(batch)
            batch.clear()
            print(f"  {n + 1} lots", flush=True)
    Lot.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE recycling_lot")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(fn, n: int) -> list[float]:
    for _ in range(5):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


QUERIES = [
    {"status": "live", "category": "steel", "district": "daoli", "q": "厂区"},
    {"status": "awarded", "category": "paper", "min_quantity": "5", "q": "打包"},
    {"category": "plastics", "district": "nangang", "max_quantity": "50", "q": "仓库"},
    {"status": "live,scheduled", "district": "xiangfang", "min_quantity": "10", "q": "重废"},
]


def bare_search(cursor, params: dict) -> None:
    """The same search as SQL: count + one page of lots joined to category and seller."""
    from recycling.models import Category

    where, args = ["1=1"], []
    statuses = params.get("status", "scheduled,live,awarded,unsold").split(",")
    where.append("l.status = ANY(%s)")
    args.append(statuses)
    if "category" in params:
        parent = Category.objects.get(code=params["category"])
        ids = [parent.pk, *parent.grades.values_list("pk", flat=True)]
        where.append("l.category_id = ANY(%s)")
        args.append(ids)
    if "district" in params:
        where.append("l.district = %s")
        args.append(params["district"])
    if "min_quantity" in params:
        where.append("l.quantity >= %s")
        args.append(Decimal(params["min_quantity"]))
    if "max_quantity" in params:
        where.append("l.quantity <= %s")
        args.append(Decimal(params["max_quantity"]))
    if "q" in params:
        where.append("l.search_text LIKE %s")
        args.append(f"%{params['q']}%")
    sql_where = " AND ".join(where)
    cursor.execute(f"SELECT count(*) FROM recycling_lot l WHERE {sql_where}", args)
    cursor.fetchone()
    cursor.execute(
        f"SELECT l.*, c.*, s.* FROM recycling_lot l JOIN recycling_category c ON c.id = l.category_id "
        f"JOIN accounts_company s ON s.id = l.seller_id WHERE {sql_where} ORDER BY l.ends_at, l.id LIMIT 20",
        args,
    )
    rows = cursor.fetchall()
    ids = [row[0] for row in rows]
    cursor.execute("SELECT * FROM recycling_lotphoto WHERE lot_id = ANY(%s)", [ids])
    cursor.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    fill(args.lots)
    from recycling.models import Lot

    print(f"lots in database: {Lot.objects.count()}  (PostgreSQL {connection.pg_version})")
    client = Client()
    n = args.requests
    rows = []
    for index, params in enumerate(QUERIES):
        query = "&".join(f"{k}={v}" for k, v in params.items())

        def api_call(query=query):
            response = client.get(f"/api/v1/lots/?{query}")
            assert response.status_code == 200, response.content[:300]

        def bare_call(params=params):
            with connection.cursor() as cursor:
                bare_search(cursor, params)

        api_ms = measure(api_call, n // len(QUERIES))
        bare_ms = measure(bare_call, n // len(QUERIES))
        rows.append((f"search #{index + 1} ?{query}", api_ms, bare_ms))

    def home():
        response = client.get("/")
        assert response.status_code == 200

    def bare_home():
        with connection.cursor() as cursor:
            for status, order in (("live", "published_at DESC"), ("scheduled", "starts_at")):
                cursor.execute(
                    f"SELECT * FROM recycling_lot WHERE status = %s ORDER BY {order} LIMIT 8",
                    [status],  # noqa: S608 - constant fragments
                )
                cursor.fetchall()

    rows.append(("home page /", measure(home, n), measure(bare_home, n)))
    all_api = [v for _, api_ms, _ in rows[:-1] for v in api_ms]
    all_bare = [v for _, _, bare_ms in rows[:-1] for v in bare_ms]
    rows.insert(len(rows) - 1, ("search, all queries", all_api, all_bare))

    print(f"\n{'what':64} {'p50 ms':>8} {'p95 ms':>8} {'bare p50':>9} {'bare p95':>9} {'ratio p95':>9}")
    for name, api_ms, bare_ms in rows:
        p50, p95 = statistics.median(api_ms), percentile(api_ms, 95)
        b50, b95 = statistics.median(bare_ms), percentile(bare_ms, 95)
        print(f"{name[:64]:64} {p50:8.1f} {p95:8.1f} {b50:9.1f} {b95:9.1f} {p95 / b95:9.2f}")
    print("\ntarget: p95 ≤ 50 ms for the search API and the home page")


if __name__ == "__main__":
    main()
