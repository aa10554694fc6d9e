"""The public board's search API: filters, ordering, pagination, bounded queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Company
from recycling.models import Lot
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(collector):
    now = timezone.now().replace(microsecond=0)
    second = factories.make_member(Company.Role.COLLECTOR)
    lots = {
        "steel": factories.make_lot(
            seller=collector,
            status="live",
            title="重废钢",
            quantity=Decimal("30"),
            district="daoli",
            starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=5),
        ),
        "copper": factories.make_lot(
            seller=collector,
            status="scheduled",
            title="光亮铜线",
            category=_cat("copper-bright"),
            quantity=Decimal("2.5"),
            district="nangang",
            start_price=Decimal("58000"),
            starts_at=now + dt.timedelta(hours=2),
            ends_at=now + dt.timedelta(days=2),
        ),
        "paper": factories.make_lot(
            seller=second,
            status="live",
            title="黄板纸打包",
            category=_cat("paper-occ"),
            quantity=Decimal("12"),
            district="daoli",
            description="超市回收的纸箱",
            start_price=Decimal("1500"),
            starts_at=now - dt.timedelta(hours=3),
            ends_at=now + dt.timedelta(hours=1),
        ),
        "sold": factories.make_lot(
            seller=second, status="awarded", title="废铝型材", category=_cat("aluminium-wrought")
        ),
        "draft": factories.make_lot(seller=second, status="draft", title="草稿重废钢"),
        "withdrawn": factories.make_lot(seller=second, status="withdrawn", title="撤回的重废钢"),
    }
    Lot.objects.filter(pk=lots["steel"].pk).update(current_price=Decimal("2400.00"), bid_count=2)
    return lots


def _cat(code):
    from recycling.models import Category

    return Category.objects.get(code=code)


def _ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_default_board_shows_published_lots_not_drafts_or_withdrawn(board):
    ids = _ids(APIClient().get("/api/v1/lots/"))
    assert set(ids) == {board[k].pk for k in ("steel", "copper", "paper", "sold")}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=live", ["paper", "steel"]),
        ("status=live,scheduled", ["paper", "steel", "copper"]),
        ("status=withdrawn", ["withdrawn"]),
        ("category=steel", ["steel"]),
        ("category=nonferrous", ["copper", "sold"]),
        ("category=paper-occ", ["paper"]),
        ("district=daoli", ["paper", "steel", "sold"]),
        ("q=废钢", ["steel"]),
        ("q=纸箱", ["paper"]),
        ("q=光亮 铜线", ["copper"]),
        ("min_quantity=10", ["paper", "steel", "sold"]),
        ("max_quantity=12", ["paper", "copper"]),
        ("min_quantity=10&max_quantity=20", ["paper"]),
        ("status=live&district=daoli&min_quantity=20&q=重废", ["steel"]),
    ],
)
def test_filters(board, query, expected):
    ids = _ids(APIClient().get(f"/api/v1/lots/?{query}&ordering=ends_at"))
    assert sorted(ids) == sorted(board[k].pk for k in expected)


def test_ends_before(board):
    cutoff = (timezone.now() + dt.timedelta(hours=3)).isoformat()
    ids = _ids(APIClient().get("/api/v1/lots/", {"ends_before": cutoff, "status": "live"}))
    assert ids == [board["paper"].pk]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("ends_at", ["paper", "steel", "copper"]),
        ("-created_at", ["paper", "copper", "steel"]),
        ("current_price", ["paper", "steel", "copper"]),  # no bids → start price 1500 < 2400 < 58000
        ("-current_price", ["copper", "steel", "paper"]),
    ],
)
def test_ordering(board, ordering, expected):
    ids = _ids(APIClient().get(f"/api/v1/lots/?status=live,scheduled&ordering={ordering}"))
    assert ids == [board[k].pk for k in expected]


@pytest.mark.parametrize(
    "query",
    [
        "ordering=price",
        "status=sold",
        "min_quantity=abc",
        "ends_before=soon",
        "category=unobtainium",
        "min_quantity=NaN",
    ],
)
def test_bad_filters_are_400_not_500(board, query):
    response = APIClient().get(f"/api/v1/lots/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_pagination_shape(board):
    body = APIClient().get("/api/v1/lots/?page_size=2&ordering=ends_at").json()
    assert body["count"] == 4 and len(body["results"]) == 2
    assert body["next"].endswith("page=2&page_size=2&ordering=ends_at") or "page=2" in body["next"]
    assert body["previous"] is None


def test_list_query_count_does_not_grow_with_lots(collector, django_assert_max_num_queries):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from recycling import services
    from tests.recycling.test_lot_photos import png_bytes

    admin = factories.make_admin()
    for n in range(15):
        lot = factories.make_lot(seller=collector, title=f"重废 {n}")
        services.lot_photo_add(
            actor=collector, lot_id=lot.pk, upload=SimpleUploadedFile("a.png", png_bytes((40, 30)), "image/png")
        )
        services.lot_submit(actor=collector, lot_id=lot.pk)
        services.lot_review(actor=admin, lot_id=lot.pk, decision="approve")
    client = APIClient()
    with django_assert_max_num_queries(3):  # count, lots with joins, photos
        body = client.get("/api/v1/lots/?q=重废&district=daoli&min_quantity=1").json()
    assert body["count"] == 15 and len(body["results"]) == 15
    assert all(len(item["photos"]) == 1 for item in body["results"])


def test_a_date_with_no_utc_equivalent_is_400(board):
    response = APIClient().get("/api/v1/lots/?ends_before=0001-01-01")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
