"""The information board's pages: who may open which page, what it shows, and that its forms
go through the services (the resulting rows and statuses are checked, not just the HTML)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.models import Company
from recycling import services
from recycling.models import Category, Lot, LotPhoto, WantedRequest
from recycling.templatetags.board import price_chart
from tests import factories

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- Helpers --------------------------------------------------------------------------


def _english_client() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def web():
    """An anonymous browser-like client reading English pages."""
    return _english_client()


@pytest.fixture
def web_as():
    def make(user) -> Client:
        client = _english_client()
        client.force_login(user)
        return client

    return make


def jpeg_bytes(size=(640, 480), colour=(120, 130, 140)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def jpeg_upload(name="yard.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(), content_type="image/jpeg")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def local_input(value: dt.datetime) -> str:
    """What a datetime-local input sends: Beijing wall-clock time, no zone."""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def lot_form_data(**overrides) -> dict:
    start = (
        (timezone.now() + dt.timedelta(days=2)).astimezone(SHANGHAI).replace(hour=9, minute=0, second=0, microsecond=0)
    )
    data = {
        "title": "黄板纸 12.5 吨",
        "category": "paper-occ",
        "quantity": "12.5",
        "unit": "",
        "description": "打包好的黄板纸，干燥。",
        "district": "nangang",
        "address": "南岗区学府路 1 号",
        "latitude": "",
        "longitude": "",
        "format": "english",
        "start_price": "1450",
        "reserve_price": "",
        "bid_increment": "",
        "deposit": "",
        "starts_at": local_input(start),
        "ends_at": local_input(start + dt.timedelta(days=1)),
        "soft_close_seconds": "300",
        "max_extension_seconds": "3600",
        "min_bidders": "1",
        "pickup_from": local_input(start + dt.timedelta(days=2)),
        "pickup_until": local_input(start + dt.timedelta(days=9)),
    }
    data.update(overrides)
    return data


def published_lot(seller, reviewer, *, photo=False, live=True, **overrides) -> Lot:
    """A lot through the services: created, optionally with a photo, submitted, approved.
    `live` lots started an hour ago and end in `ends_in` (default 2 h)."""
    if live:
        now = timezone.now().replace(microsecond=0)
        overrides.setdefault("starts_at", now - dt.timedelta(hours=1))
        overrides.setdefault("ends_at", now + overrides.pop("ends_in", dt.timedelta(hours=2)))
    lot = factories.make_lot(seller=seller, **overrides)
    if photo:
        services.lot_photo_add(actor=seller, lot_id=lot.pk, upload=jpeg_upload())
    services.lot_submit(actor=seller, lot_id=lot.pk)
    services.lot_review(actor=reviewer, lot_id=lot.pk, decision="approve")
    return Lot.objects.get(pk=lot.pk)


def award(lot: Lot, *, price: str, closed_at: dt.datetime, winner=None) -> None:
    Lot.objects.filter(pk=lot.pk).update(
        status=Lot.Status.AWARDED, final_price=Decimal(price), closed_at=closed_at, winner=winner
    )


# --- The home board -------------------------------------------------------------------


def test_board_shows_live_ending_upcoming_lots_and_wanted_requests(web, collector, processor, coop_admin):
    # given
    ending = published_lot(collector, coop_admin, title="今晚结束的重废")
    later = published_lot(collector, coop_admin, title="三天后结束的轻薄料", ends_in=dt.timedelta(days=3))
    upcoming = published_lot(collector, coop_admin, live=False, title="明天开拍的废纸")
    draft = factories.make_lot(seller=collector, title="还没提交的草稿")
    services.wanted_create(
        actor=processor, category="copper-bright", valid_until=timezone.localdate() + dt.timedelta(days=10)
    )

    # when
    response = web.get("/lots/board/")

    # then
    assert response.status_code == 200
    assert [lot.pk for lot in response.context["live"]] == [later.pk, ending.pk]
    assert [lot.pk for lot in response.context["ending_soon"]] == [ending.pk]
    assert [lot.pk for lot in response.context["upcoming"]] == [upcoming.pk]
    html = response.content.decode()
    for lot in (ending, later, upcoming):
        assert lot.title in html
    assert draft.title not in html
    assert "Bright copper wire" in html
    assert 'action="/lots/"' in html and 'name="q"' in html
    assert 'href="/lots/market/"' in html


def test_board_queries_do_not_grow_with_lots(web, collector, coop_admin, processor, django_assert_max_num_queries):
    # given: 15 live lots with a photo each, ending soon, and 8 scheduled ones
    for n in range(15):
        published_lot(collector, coop_admin, photo=True, title=f"重废 {n}")
    for n in range(8):
        published_lot(collector, coop_admin, photo=True, live=False, title=f"预告 {n}")
    for _n in range(3):
        services.wanted_create(actor=processor, category="paper", valid_until=timezone.localdate())

    # when / then: three sections × (lots + photos) + wanted requests
    with django_assert_max_num_queries(7):
        response = web.get("/lots/board/")
    assert response.status_code == 200
    assert len(response.context["live"]) == 8
    assert response.content.decode().count('src="/lots/photos/') == 24


# --- The search page ------------------------------------------------------------------


def test_search_card_shows_the_lot_facts(web, collector, coop_admin):
    # given
    lot = published_lot(collector, coop_admin, photo=True, ends_in=dt.timedelta(hours=5))

    # when
    response = web.get("/lots/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    photo = lot.photos.get()
    assert f'src="/lots/photos/{photo.pk}/thumb/"' in html
    assert lot.code in html
    assert "重废钢 30 吨" in html
    assert "Ferrous scrap · Heavy melting scrap" in html
    assert "30 t" in html
    assert "Daoli District" in html
    assert 'data-status="live"' in html
    assert "¥2,300.00/t" in html
    ends = timezone.localtime(lot.ends_at, SHANGHAI).strftime("%Y-%m-%d %H:%M")
    assert f">{ends}</time>" in html


def test_search_filters_by_text_category_status_and_quantity(web, collector, coop_admin):
    # given
    steel = published_lot(collector, coop_admin, title="拆迁重废", quantity=Decimal("30"))
    paper = published_lot(
        collector, coop_admin, title="超市纸箱", category=Category.objects.get(code="paper-occ"), quantity=Decimal("5")
    )
    upcoming = published_lot(collector, coop_admin, live=False, title="下周重废")

    def found(query: str) -> list[int]:
        response = web.get("/lots/" + query)
        assert response.status_code == 200
        return [lot.pk for lot in response.context["page_obj"]]

    # then
    assert found("?q=纸箱") == [paper.pk]
    assert found("?category=steel") == [steel.pk, upcoming.pk]
    assert found("?category=paper-occ") == [paper.pk]
    assert found("?status=scheduled") == [upcoming.pk]
    assert found("?min_quantity=10&status=live") == [steel.pk]
    assert found("?max_quantity=10") == [paper.pk]
    assert found("?district=nangang") == []


def test_search_shows_open_lots_unless_asked_for_closed_ones(web, collector, coop_admin):
    live = published_lot(collector, coop_admin, title="在拍")
    sold = published_lot(collector, coop_admin, title="已成交")
    award(sold, price="2400.00", closed_at=timezone.now())

    def found(query: str) -> list[int]:
        return [lot.pk for lot in web.get("/lots/" + query).context["page_obj"]]

    assert found("") == [live.pk]
    assert found("?q=成交") == []
    assert found("?status=awarded") == [sold.pk]
    assert found("?status=&ordering=-created_at") == [sold.pk, live.pk]


def test_search_with_a_bad_filter_shows_a_message_not_a_500(web, collector, coop_admin):
    published_lot(collector, coop_admin)

    response = web.get("/lots/?min_quantity=lots&ordering=ends_at")

    assert response.status_code == 400
    assert messages_of(response) == ["Not a number."]
    assert list(response.context["page_obj"]) == []
    assert 'class="field has-error" data-field="min_quantity"' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "?ordering=price",
            "Order by one of: ends_at, -ends_at, -created_at, created_at, current_price, -current_price.",
        ),
        ("?category=gold", "Unknown category."),
        ("?status=lost", "Unknown status."),
        ("?ends_before=tomorrow", "Use ISO 8601 (2026-11-30T18:00:00+08:00)."),
    ],
)
def test_each_bad_filter_is_a_message(web, query, message):
    response = web.get("/lots/" + query)
    assert response.status_code == 400
    assert messages_of(response) == [message]


def test_a_date_without_a_utc_equivalent_is_a_message(web):
    response = web.get("/lots/?ends_before=0001-01-01")

    assert response.status_code == 400
    assert messages_of(response) == ["Date out of range."]


@pytest.mark.parametrize("path", ["/lots/{big}/", "/lots/{big}/edit/", "/lots/photos/{big}/full/"])
def test_huge_ids_are_404(web_as, collector, path):
    assert web_as(collector).get(path.format(big="9" * 25)).status_code == 404


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("collector", "/lots/{big}/submit/"),
        ("collector", "/lots/{big}/photos/1/delete/"),
        ("coop_admin", "/lots/{big}/review/"),
        ("coop_admin", "/lots/{big}/withdraw/"),
        ("processor", "/lots/wanted/{big}/close/"),
    ],
)
def test_posts_to_huge_ids_are_404(request, web_as, who, path):
    client = web_as(request.getfixturevalue(who))
    response = client.post(path.format(big="9" * 25), {"decision": "approve", "reason": "x"})
    assert response.status_code == 404


def test_search_is_paginated_by_twenty(web, collector, coop_admin):
    lots = [published_lot(collector, coop_admin, title=f"第 {n} 批") for n in range(21)]

    first = web.get("/lots/?ordering=-created_at")
    second = web.get("/lots/?ordering=-created_at&page=2")

    assert len(first.context["page_obj"]) == 20
    assert [lot.pk for lot in second.context["page_obj"]] == [lots[0].pk]
    assert "21 lots found." in first.content.decode()
    assert 'href="?ordering=-created_at&amp;page=2"' in first.content.decode()


def test_search_queries_do_not_grow_with_lots(web, web_as, collector, coop_admin, django_assert_max_num_queries):
    for n in range(15):
        published_lot(collector, coop_admin, photo=True, title=f"重废 {n}")

    # anonymous: categories for the select, the filtered class and its grades, count, lots, photos
    with django_assert_max_num_queries(6):
        response = web.get("/lots/?category=steel&ordering=-current_price")
    assert len(response.context["page_obj"]) == 15
    assert response.content.decode().count('src="/lots/photos/') == 15

    # logged in adds the session, the user, its permissions (2), its company, the unread count
    client = web_as(collector)
    with django_assert_max_num_queries(10):
        assert client.get("/lots/?q=重废").status_code == 200


# --- The lot page ---------------------------------------------------------------------


def test_lot_page_for_the_public_shows_terms_but_no_contact(web, collector, coop_admin):
    # given
    lot = published_lot(
        collector,
        coop_admin,
        photo=True,
        reserve_price=Decimal("2500.00"),
        bid_increment=Decimal("50.00"),
        latitude=Decimal("45.756967"),
        longitude=Decimal("126.642464"),
        soft_close_seconds=120,
        max_extension_seconds=1800,
        min_bidders=2,
    )
    Lot.objects.filter(pk=lot.pk).update(current_price=Decimal("2400.00"), bid_count=3)

    # when
    response = web.get(f"/lots/{lot.pk}/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    photo = lot.photos.get()
    assert f'href="/lots/photos/{photo.pk}/full/"' in html
    assert "¥2,400.00/t" in html and "3 bids" in html
    assert 'data-reserve="not-met"' in html
    assert "2,500.00" not in html
    assert '<dd data-term="start_price">¥2,300.00/t</dd>' in html
    assert '<dd data-term="bid_increment">¥50.00/t</dd>' in html
    assert '<dd data-term="deposit">¥6,900.00</dd>' in html
    assert "A bid in the last 2 minutes extends the end by 2 minutes, at most 30 minutes in all." in html
    assert '<dd data-term="min_bidders">2</dd>' in html
    assert "The buyer collects" in html
    assert "Daoli District" in html
    assert "The exact address and the seller's phone are shown to the winner after the award." in html
    assert lot.address not in html and "13900000000" not in html and "45.756967" not in html
    assert "Licence required" not in html
    assert 'data-testid="review-forms"' not in html and 'data-testid="withdraw-form"' not in html


def test_lot_page_for_the_seller_shows_reserve_contact_and_the_rejection_reason(web_as, collector):
    lot = factories.make_lot(seller=collector, status="rejected", reserve_price=Decimal("2500.00"))

    html = web_as(collector).get(f"/lots/{lot.pk}/").content.decode()

    assert "¥2,500.00/t" in html
    assert lot.address in html and "13900000000" in html
    assert "照片不清楚" in html
    assert f'action="/lots/{lot.pk}/submit/"' in html and f'href="/lots/{lot.pk}/edit/"' in html


def test_lot_page_shows_contact_to_the_winner_after_the_award(web_as, collector, processor, coop_admin):
    lot = published_lot(collector, coop_admin)
    award(lot, price="2450.00", closed_at=timezone.now(), winner=processor.company)

    html = web_as(processor).get(f"/lots/{lot.pk}/").content.decode()

    assert lot.address in html and "13900000000" in html
    assert "¥2,450.00/t" in html


def test_lot_page_for_admins_has_warning_and_review_forms(web_as, collector, coop_admin):
    lot = factories.make_lot(seller=collector, status="pending_review", description="联系我 微信 abc12345")

    html = web_as(coop_admin).get(f"/lots/{lot.pk}/").content.decode()

    assert 'data-testid="contact-warning"' in html and "a WeChat ID" in html
    assert f'action="/lots/{lot.pk}/review/"' in html
    assert f'action="/lots/{lot.pk}/withdraw/"' in html


def test_lot_page_names_the_licence_for_hazardous_categories(web, collector, coop_admin):
    lot = published_lot(collector, coop_admin, category=Category.objects.get(code="battery-lead-acid"))

    html = web.get(f"/lots/{lot.pk}/").content.decode()

    assert 'data-testid="licence-notice"' in html
    assert "<strong>Waste batteries</strong>" in html


@pytest.mark.parametrize("status", ["draft", "pending_review", "rejected"])
def test_unpublished_lot_page_is_404_to_others(web, web_as, collector, processor, status):
    lot = factories.make_lot(seller=collector, status=status)
    assert web.get(f"/lots/{lot.pk}/").status_code == 404
    assert web_as(processor).get(f"/lots/{lot.pk}/").status_code == 404
    assert web_as(collector).get(f"/lots/{lot.pk}/").status_code == 200


# --- Listing and editing --------------------------------------------------------------


def test_lot_create_requires_a_verified_collector(web, web_as, processor):
    pending = factories.make_member(Company.Role.COLLECTOR, Company.Status.PENDING)

    assert web.get("/lots/new/").status_code == 302
    as_processor = web_as(processor).get("/lots/new/")
    assert as_processor.status_code == 403
    assert "Only collector companies may do this." in as_processor.content.decode()
    as_pending = web_as(pending).get("/lots/new/")
    assert as_pending.status_code == 403
    assert "Your company must be verified by the cooperative first." in as_pending.content.decode()
    assert web_as(processor).post("/lots/new/", lot_form_data()).status_code == 403
    assert Lot.objects.count() == 0


def test_lot_create_makes_a_draft_with_times_in_beijing(web_as, collector):
    # given
    client = web_as(collector)
    assert client.get("/lots/new/").status_code == 200
    data = lot_form_data(starts_at="2030-03-01T09:00", ends_at="2030-03-02T18:30")
    data.update(pickup_from="2030-03-03T08:00", pickup_until="2030-03-10T17:00")

    # when
    response = client.post("/lots/new/", data)

    # then
    lot = Lot.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/lots/{lot.pk}/edit/#photos"
    assert lot.status == Lot.Status.DRAFT
    assert lot.seller_id == collector.company_id
    assert lot.category.code == "paper-occ" and lot.unit == "t"
    assert lot.quantity == Decimal("12.500") and lot.start_price == Decimal("1450.00")
    assert lot.deposit == Decimal("1812.50")
    assert lot.reserve_price is None and lot.bid_increment is None
    assert lot.starts_at == dt.datetime(2030, 3, 1, 1, 0, tzinfo=dt.UTC)
    assert lot.ends_at == dt.datetime(2030, 3, 2, 10, 30, tzinfo=dt.UTC)


def test_lot_create_without_a_pickup_window_takes_the_default_and_the_edit_form_leaves_it_empty(web_as, collector):
    # given
    client = web_as(collector)
    data = lot_form_data(starts_at="2030-03-01T09:00", ends_at="2030-03-02T18:30", pickup_from="", pickup_until="")

    # when
    response = client.post("/lots/new/", data)

    # then: from the end to 10 days after the latest close (end + 3600 s)
    lot = Lot.objects.get()
    assert response.status_code == 302
    assert lot.pickup_from == dt.datetime(2030, 3, 2, 10, 30, tzinfo=dt.UTC)
    assert lot.pickup_until == dt.datetime(2030, 3, 12, 11, 30, tzinfo=dt.UTC)
    form = client.get(f"/lots/{lot.pk}/edit/").context["form"]
    assert (form["pickup_from"].value(), form["pickup_until"].value()) == (None, None)
    assert form.fields["pickup_until"].help_text == (
        "Empty: 10 days after the latest possible end (the scheduled end plus the maximum extension)."
    )


def test_lot_create_shows_a_service_refusal_on_its_field(web_as, collector):
    response = web_as(collector).post("/lots/new/", lot_form_data(reserve_price="1000"))

    assert response.status_code == 200
    assert response.context["form"].errors == {"reserve_price": ["The reserve price cannot be below the start price."]}
    assert Lot.objects.count() == 0


def test_lot_create_form_errors_stay_on_the_form(web_as, collector):
    response = web_as(collector).post("/lots/new/", lot_form_data(quantity="", starts_at="next week"))

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"quantity", "starts_at"}
    assert Lot.objects.count() == 0


def test_lot_edit_updates_through_the_service(web_as, collector):
    lot = factories.make_lot(seller=collector, status="rejected")
    client = web_as(collector)
    form = client.get(f"/lots/{lot.pk}/edit/").context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if k != "seller_delivers"}
    for name in ("starts_at", "ends_at", "pickup_from", "pickup_until"):
        data[name] = form.fields[name].widget.format_value(form[name].value())

    response = client.post(f"/lots/{lot.pk}/edit/", {**data, "title": "重废钢 32 吨", "quantity": "32"})

    assert response.status_code == 302, response.context["form"].errors
    lot.refresh_from_db()
    assert (lot.title, lot.quantity, lot.status) == ("重废钢 32 吨", Decimal("32.000"), "rejected")
    assert lot.deposit == Decimal("7360.00")  # the default deposit followed the new quantity
    assert lot.starts_at == Lot.objects.get(pk=lot.pk).starts_at


def test_lot_edit_is_closed_after_submission_and_to_other_collectors(web_as, collector):
    lot = factories.make_lot(seller=collector, status="pending_review")
    other = factories.make_member(Company.Role.COLLECTOR)

    response = web_as(collector).post(f"/lots/{lot.pk}/edit/", lot_form_data(title="改了"))

    assert response.status_code == 302 and response["Location"] == f"/lots/{lot.pk}/"
    assert Lot.objects.get(pk=lot.pk).title == "重废钢 30 吨"
    assert web_as(other).get(f"/lots/{factories.make_lot(seller=collector).pk}/edit/").status_code == 404


def test_photo_upload_through_the_edit_page(web_as, collector):
    # given
    lot = factories.make_lot(seller=collector)
    client = web_as(collector)

    # when
    response = client.post(f"/lots/{lot.pk}/photos/", {"photos": [jpeg_upload("a.jpg"), jpeg_upload("b.jpg")]})

    # then
    assert response.status_code == 302 and response["Location"] == f"/lots/{lot.pk}/edit/#photos"
    assert LotPhoto.objects.filter(lot=lot).count() == 2
    page = client.get(f"/lots/{lot.pk}/edit/").content.decode()
    for photo in LotPhoto.objects.filter(lot=lot):
        assert f'src="/lots/photos/{photo.pk}/thumb/"' in page


def test_a_text_file_named_jpg_is_refused_and_the_good_ones_kept(web_as, collector):
    lot = factories.make_lot(seller=collector)
    fake = SimpleUploadedFile("notes.jpg", b"this is plain text pretending to be a photo\n" * 10, "image/jpeg")

    response = web_as(collector).post(f"/lots/{lot.pk}/photos/", {"photos": [fake, jpeg_upload("good.jpg")]})

    assert response.status_code == 200
    assert response.context["photo_errors"] == [("notes.jpg", "Only JPEG or PNG photos are accepted.")]
    assert 'data-testid="photo-errors"' in response.content.decode()
    assert messages_of(response) == ["1 photo added."]
    assert LotPhoto.objects.filter(lot=lot).count() == 1


def test_photo_delete_through_the_edit_page(web_as, collector):
    lot = factories.make_lot(seller=collector)
    photo = services.lot_photo_add(actor=collector, lot_id=lot.pk, upload=jpeg_upload())

    response = web_as(collector).post(f"/lots/{lot.pk}/photos/{photo.pk}/delete/")

    assert response.status_code == 302
    assert LotPhoto.objects.filter(lot=lot).count() == 0


def test_submit_moves_the_lot_to_review(web_as, collector):
    lot = factories.make_lot(seller=collector)

    response = web_as(collector).post(f"/lots/{lot.pk}/submit/")

    assert response.status_code == 302 and response["Location"] == f"/lots/{lot.pk}/"
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.PENDING_REVIEW


def test_submit_of_a_lot_whose_end_passed_is_a_message(web_as, collector):
    past = timezone.now() - dt.timedelta(days=1)
    lot = factories.make_lot(seller=collector, starts_at=past - dt.timedelta(days=1), ends_at=past)

    response = web_as(collector).post(f"/lots/{lot.pk}/submit/", follow=True)

    assert messages_of(response) == ["The auction's end has passed: change the schedule first."]
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.DRAFT


def test_my_lots_groups_by_status_with_the_next_action(web_as, collector, coop_admin):
    draft = factories.make_lot(seller=collector, title="草稿")
    rejected = factories.make_lot(seller=collector, status="rejected", reviewer=coop_admin)
    pending = factories.make_lot(seller=collector, status="pending_review")
    live = published_lot(collector, coop_admin)

    response = web_as(collector).get("/lots/mine/")

    assert response.status_code == 200
    groups = [(group["status"], [lot.pk for lot in group["lots"]]) for group in response.context["groups"]]
    assert groups == [
        ("draft", [draft.pk]),
        ("rejected", [rejected.pk]),
        ("pending_review", [pending.pk]),
        ("live", [live.pk]),
    ]
    html = response.content.decode()
    assert f'href="/lots/{draft.pk}/edit/"' in html and f'action="/lots/{rejected.pk}/submit/"' in html
    assert "Rejected: 照片不清楚" in html
    assert "Waiting for the cooperative's review" in html
    assert 'href="/lots/new/"' in html


def test_my_lots_is_for_collectors(web, web_as, processor, coop_admin):
    assert web.get("/lots/mine/").status_code == 302
    assert web_as(processor).get("/lots/mine/").status_code == 403
    assert web_as(coop_admin).get("/lots/mine/").status_code == 403


# --- The cooperative's review ---------------------------------------------------------


def test_review_queue_is_for_cooperative_admins(web, web_as, collector, processor):
    assert web.get("/lots/review/").status_code == 302
    assert web_as(collector).get("/lots/review/").status_code == 403
    assert web_as(processor).get("/lots/review/").status_code == 403


def test_review_queue_lists_pending_lots_oldest_first_with_warnings(web_as, collector, coop_admin):
    first = factories.make_lot(seller=collector, status="pending_review", description="电话 13912345678")
    second = factories.make_lot(seller=collector, category=Category.objects.get(code="battery-lithium"))
    services.lot_photo_add(actor=collector, lot_id=second.pk, upload=jpeg_upload())
    services.lot_submit(actor=collector, lot_id=second.pk)
    factories.make_lot(seller=collector)  # a draft is not in the queue

    response = web_as(coop_admin).get("/lots/review/")

    assert response.status_code == 200
    assert [lot.pk for lot in response.context["lots"]] == [first.pk, second.pk]
    html = response.content.decode()
    assert html.count('data-testid="contact-warning"') == 1 and "a mobile number" in html
    assert html.count('data-testid="licence-flag"') == 1
    assert f'src="/lots/photos/{second.photos.get().pk}/thumb/"' in html
    assert collector.company.name in html


def test_approve_from_the_queue_publishes_the_lot(web_as, collector, coop_admin):
    lot = factories.make_lot(seller=collector, status="pending_review")

    response = web_as(coop_admin).post(
        f"/lots/{lot.pk}/review/", {"decision": "approve", "next": "/lots/review/"}, follow=True
    )

    assert response.redirect_chain == [("/lots/review/", 302)]
    assert messages_of(response) == [f"{lot.code} is published."]
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.SCHEDULED


def test_reject_needs_a_reason(web_as, collector, coop_admin):
    lot = factories.make_lot(seller=collector, status="pending_review")
    client = web_as(coop_admin)

    refused = client.post(f"/lots/{lot.pk}/review/", {"decision": "reject", "reason": " "}, follow=True)
    assert messages_of(refused) == ["Tell the seller why the lot is rejected."]
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.PENDING_REVIEW

    client.post(f"/lots/{lot.pk}/review/", {"decision": "reject", "reason": "请补充照片"})
    lot.refresh_from_db()
    assert (lot.status, lot.review_reason) == ("rejected", "请补充照片")


def test_review_and_withdraw_are_refused_to_others(web_as, collector, processor):
    lot = factories.make_lot(seller=collector, status="pending_review")

    assert web_as(collector).post(f"/lots/{lot.pk}/review/", {"decision": "approve"}).status_code == 403
    assert web_as(processor).post(f"/lots/{lot.pk}/withdraw/", {"reason": "x"}).status_code == 403
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.PENDING_REVIEW


def test_withdraw_from_the_lot_page(web_as, collector, coop_admin):
    lot = published_lot(collector, coop_admin)
    client = web_as(coop_admin)

    client.post(f"/lots/{lot.pk}/withdraw/", {"reason": ""})
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.LIVE

    response = client.post(f"/lots/{lot.pk}/withdraw/", {"reason": "重复发布", "next": f"/lots/{lot.pk}/"})
    assert response["Location"] == f"/lots/{lot.pk}/"
    lot.refresh_from_db()
    assert (lot.status, lot.review_reason) == ("withdrawn", "重复发布")


# --- Wanted requests ------------------------------------------------------------------


def test_wanted_list_is_public_and_filters_by_category(web, processor):
    today = timezone.localdate()
    copper = services.wanted_create(actor=processor, category="copper-bright", valid_until=today, districts=["daoli"])
    paper = services.wanted_create(
        actor=processor,
        category="paper",
        valid_until=today,
        quantity_min=Decimal("10"),
        quantity_max=Decimal("50"),
        max_unit_price=Decimal("1500"),
        note="长期收购",
    )
    expired = services.wanted_create(actor=processor, category="paper-occ", valid_until=today)
    WantedRequest.objects.filter(pk=expired.pk).update(valid_until=today - dt.timedelta(days=1))

    everything = web.get("/lots/wanted/")
    papers = web.get("/lots/wanted/?category=paper")

    assert everything.status_code == 200
    assert [item.pk for item in everything.context["page_obj"]] == [paper.pk, copper.pk]
    assert [item.pk for item in papers.context["page_obj"]] == [paper.pk]
    html = papers.content.decode()
    assert "10–50 t" in html and "up to ¥1,500.00/t" in html and "长期收购" in html
    assert "Daoli District" in everything.content.decode()
    assert 'data-action="close-wanted"' not in html


def test_wanted_list_with_an_unknown_category_is_a_message(web):
    response = web.get("/lots/wanted/?category=gold")
    assert response.status_code == 400
    assert messages_of(response) == ["Unknown category."]


def test_wanted_create_for_verified_processors(web, web_as, processor, collector):
    client = web_as(processor)
    valid_until = timezone.localdate() + dt.timedelta(days=14)
    assert web.get("/lots/wanted/new/").status_code == 302
    assert web_as(collector).get("/lots/wanted/new/").status_code == 403
    assert client.get("/lots/wanted/new/").status_code == 200

    response = client.post(
        "/lots/wanted/new/",
        {
            "category": "steel-heavy",
            "unit": "",
            "quantity_min": "20",
            "quantity_max": "100",
            "max_unit_price": "2500",
            "districts": ["daoli", "pingfang"],
            "valid_until": valid_until.isoformat(),
            "note": "每月稳定需求",
        },
    )

    assert response.status_code == 302 and response["Location"] == "/lots/wanted/"
    wanted = WantedRequest.objects.get()
    assert wanted.company_id == processor.company_id
    assert (wanted.category.code, wanted.unit, wanted.valid_until) == ("steel-heavy", "t", valid_until)
    assert (wanted.quantity_min, wanted.quantity_max, wanted.max_unit_price) == (
        Decimal("20.000"),
        Decimal("100.000"),
        Decimal("2500.00"),
    )
    assert wanted.districts == ["daoli", "pingfang"]


def test_wanted_create_shows_service_refusal_on_its_field(web_as, processor):
    response = web_as(processor).post(
        "/lots/wanted/new/",
        {
            "category": "paper",
            "quantity_min": "50",
            "quantity_max": "10",
            "valid_until": timezone.localdate().isoformat(),
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"quantity_max": ["The maximum quantity is below the minimum."]}
    assert WantedRequest.objects.count() == 0


def test_wanted_close_by_its_owner(web_as, processor):
    wanted = services.wanted_create(actor=processor, category="paper", valid_until=timezone.localdate())
    other = factories.make_member(Company.Role.PROCESSOR)
    client = web_as(processor)
    assert 'data-action="close-wanted"' in client.get("/lots/wanted/").content.decode()

    assert web_as(other).post(f"/lots/wanted/{wanted.pk}/close/").status_code == 404
    assert WantedRequest.objects.get(pk=wanted.pk).status == "open"

    response = client.post(f"/lots/wanted/{wanted.pk}/close/")
    assert response.status_code == 302
    assert WantedRequest.objects.get(pk=wanted.pk).status == "closed"


# --- Market prices --------------------------------------------------------------------


def test_market_shows_the_30_day_median_and_a_weekly_chart(web, collector, coop_admin):
    # given: three steel lots awarded this week and last week, one 60 days ago, and a paper lot
    now = timezone.now()
    prices = [("2300.00", 2), ("2500.00", 9), ("2400.00", 10), ("1800.00", 60)]
    for price, days_ago in prices:
        award(published_lot(collector, coop_admin), price=price, closed_at=now - dt.timedelta(days=days_ago))
    paper = published_lot(collector, coop_admin, category=Category.objects.get(code="paper-news"))
    award(paper, price="1200.50", closed_at=now - dt.timedelta(days=1))
    published_lot(collector, coop_admin)  # live: no clearing price yet

    # when
    response = web.get("/lots/market/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    rows = {row["item"].category.code: row for row in response.context["rows"]}
    assert set(rows) == {"steel", "paper"}
    assert rows["steel"]["item"].median_30d == Decimal("2400.00")
    assert rows["steel"]["item"].lots_30d == 3
    assert '<strong class="price-big" data-testid="median">¥2,400.00/t</strong>' in html
    assert '<strong class="price-big" data-testid="median">¥1,200.50/t</strong>' in html
    assert "3 lots in 30 days" in html and "1 lot in 30 days" in html
    assert html.count("<svg") == 2
    assert html.count('<polyline class="line"') == 1  # the paper series has a single week
    assert "¥2,450" in html or "¥2,500" in html  # the top of the steel axis


def test_market_without_awards(web):
    response = web.get("/lots/market/")
    assert response.status_code == 200
    assert "No lot has been awarded yet" in response.content.decode()


def test_price_chart_maps_weeks_and_prices_to_the_plot():
    weeks = [dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 1, 26)]
    chart = price_chart(
        list(zip(weeks, [Decimal("2000"), Decimal("2400"), Decimal("2200")], strict=True)),
        width=320,
        height=150,
        left=64,
        right=12,
        top=12,
        bottom=24,
    )

    # plot: x 64…308 over 21 days, y 12 (2400) … 126 (2000)
    assert chart.polyline == "64.0,126.0 145.3,12.0 308.0,69.0"
    assert (chart.y_max_label, chart.y_min_label) == ("¥2,400", "¥2,000")
    assert (chart.x_first_label, chart.x_last_label) == ("01-05", "01-26")
    assert price_chart([]) is None
    flat = price_chart([(weeks[0], Decimal("2000"))])
    assert [(p.x, p.y) for p in flat.points] == [(186.0, 69.0)]


def test_photo_of_a_draft_is_private(web, web_as, collector):
    lot = factories.make_lot(seller=collector)
    photo = services.lot_photo_add(actor=collector, lot_id=lot.pk, upload=jpeg_upload())

    assert web.get(f"/lots/photos/{photo.pk}/thumb/").status_code == 404
    response = web_as(collector).get(f"/lots/photos/{photo.pk}/full/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert web_as(collector).get(f"/lots/photos/{photo.pk}/huge/").status_code == 404


def test_only_the_party_that_books_sees_the_pickup_button(client, collector, processor):
    from decimal import Decimal

    from recycling.models import Lot
    from tests import factories as f

    lot = f.make_lot(seller=collector, status="awarded")
    Lot.objects.filter(pk=lot.pk).update(winner=processor.company, final_price=Decimal("2400.00"))
    client.force_login(processor)
    assert b'data-action="book-pickup"' in client.get(f"/lots/{lot.pk}/").content
    client.force_login(collector)
    page = client.get(f"/lots/{lot.pk}/").content
    assert b'data-action="book-pickup"' not in page
    assert f"/trace/{lot.code}/".encode() in page
