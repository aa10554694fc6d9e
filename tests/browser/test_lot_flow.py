"""A collector lists a lot with a photo and submits it; a cooperative admin approves it in the
review queue; an anonymous visitor finds it by free text on the search page and opens it."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from accounts.models import Company
from recycling.models import Lot, LotPhoto
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHANGHAI = ZoneInfo("Asia/Shanghai")
TITLE = "铝合金门窗拆解料 6 吨"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (150, 160, 170)).save(out, "JPEG")
    return out.getvalue()


def _local(value: dt.datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def _log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.form button[type=submit]")
    expect(page.locator(".nav-user")).to_have_text(username)


def test_a_lot_is_listed_approved_and_found(new_page):
    factories.make_member(Company.Role.COLLECTOR, username="li_collector", password=factories.PASSWORD)
    admin = factories.make_admin(username="coop_zhang")
    starts = (timezone.now() + dt.timedelta(hours=2)).replace(second=0, microsecond=0)

    # Given a collector who lists a lot
    seller = new_page()
    _log_in(seller, "li_collector")
    seller.goto("/lots/new/")
    seller.fill("input[name=title]", TITLE)
    seller.select_option("select[name=category]", "aluminium-wrought")
    seller.fill("input[name=quantity]", "6")
    seller.fill("textarea[name=description]", "断桥铝门窗，已拆玻璃，打包堆放。")
    seller.select_option("select[name=district]", "xiangfang")
    seller.fill("input[name=address]", "香坊区哈平路 88 号院内")
    seller.fill("input[name=start_price]", "12800")
    seller.fill("input[name=starts_at]", _local(starts))
    seller.fill("input[name=ends_at]", _local(starts + dt.timedelta(days=1)))
    seller.fill("input[name=pickup_from]", _local(starts + dt.timedelta(days=2)))
    seller.fill("input[name=pickup_until]", _local(starts + dt.timedelta(days=7)))
    seller.click("form.lot-form button[type=submit]")

    lot = Lot.objects.get(title=TITLE)
    expect(seller).to_have_url(re.compile(rf"/lots/{lot.pk}/edit/#photos$"))
    assert (lot.status, lot.starts_at) == (Lot.Status.DRAFT, starts)

    # … adds a photo and submits it for review
    seller.set_input_files(
        "input[name=photos]", files=[{"name": "yard.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    seller.click("form.photo-form button[type=submit]")
    expect(seller.locator(".message-success")).to_have_text("1 photo added.")
    photo = LotPhoto.objects.get(lot=lot)
    expect(seller.locator(f"[data-photo='{photo.pk}'] img")).to_be_visible()
    seller.click("button[data-action=submit]")
    expect(seller).to_have_url(re.compile(rf"/lots/{lot.pk}/$"))
    expect(seller.locator(".lot-head [data-status]")).to_have_attribute("data-status", "pending_review")
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.PENDING_REVIEW

    # When a cooperative admin approves it in the review queue
    reviewer = new_page()
    _log_in(reviewer, admin.username)
    reviewer.goto("/lots/review/")
    item = reviewer.locator(f"article[data-lot='{lot.pk}']")
    expect(item).to_contain_text(TITLE)
    expect(item.locator(f"img[src='/lots/photos/{photo.pk}/thumb/']")).to_be_visible()
    item.locator("button[data-action=approve]").click()
    expect(reviewer.locator(".message-success")).to_have_text(f"{lot.code} is published.")
    expect(reviewer.locator(f"article[data-lot='{lot.pk}']")).to_have_count(0)
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.SCHEDULED

    # Then an anonymous visitor finds it by free text and opens it
    visitor = new_page()
    visitor.goto("/lots/")
    visitor.fill("input[name=q]", "门窗")
    visitor.click("form.lot-filters button[type=submit]")
    card = visitor.locator(f".lot-card[data-lot='{lot.pk}']")
    expect(card).to_contain_text(TITLE)
    expect(card.locator("[data-status]")).to_have_attribute("data-status", "scheduled")
    expect(card).to_contain_text("¥12,800.00/t")
    card.locator("a").click()
    expect(visitor).to_have_url(re.compile(rf"/lots/{lot.pk}/$"))
    expect(visitor.locator("h1")).to_have_text(TITLE)
    expect(visitor.locator(".gallery-main img")).to_be_visible()
    expect(visitor.locator("[data-testid=contact-hidden]")).to_be_visible()
    expect(visitor.locator("body")).not_to_contain_text("哈平路 88 号")
