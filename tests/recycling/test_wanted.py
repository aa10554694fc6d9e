"""Wanted requests (求购) and their single notification per matching published lot."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Company
from core.models import Notification
from recycling import services
from recycling.models import Category, WantedMatch, WantedRequest
from tests import factories
from tests.mail import sent_mail

pytestmark = pytest.mark.django_db


def _wanted(user, **overrides):
    values = {
        "category": Category.objects.get(code="steel"),
        "quantity_min": Decimal("10"),
        "quantity_max": Decimal("50"),
        "districts": ["daoli", "nangang"],
        "valid_until": timezone.localdate() + dt.timedelta(days=30),
        "max_unit_price": Decimal("2600"),
    }
    values.update(overrides)
    return services.wanted_create(actor=user, **values)


def test_processor_posts_a_wanted_request_through_the_api(api, processor):
    response = api.as_user(processor).post(
        "/api/v1/wanted/",
        {
            "category": "paper-occ",
            "quantity_min": "5",
            "quantity_max": "40",
            "max_unit_price": "1600.00",
            "districts": ["xiangfang"],
            "valid_until": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["category"] == "paper-occ" and body["unit"] == "t" and body["status"] == "open"
    assert [item["id"] for item in APIClient().get("/api/v1/wanted/").json()["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("collector", 403, "wrong_role"), ("carrier", 403, "wrong_role"), ("pending_user", 403, "company_not_verified")],
)
def test_only_verified_processors_post_wanted_requests(api, request, who, status, code):
    user = request.getfixturevalue(who)
    response = api.as_user(user).post(
        "/api/v1/wanted/", {"category": "steel", "valid_until": "2099-01-01"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not WantedRequest.objects.exists()


def test_bad_ranges_are_refused(api, processor):
    response = api.as_user(processor).post(
        "/api/v1/wanted/",
        {"category": "steel", "quantity_min": "50", "quantity_max": "10", "valid_until": "2099-01-01"},
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_quantity")


def test_matching_lot_notifies_the_processor_once_per_lot(collector, processor, django_capture_on_commit_callbacks):
    _wanted(processor)
    _wanted(processor, category=Category.objects.get(code="steel-heavy"))  # a second matching request
    with django_capture_on_commit_callbacks(execute=True):
        lot = factories.make_lot(seller=collector, status="scheduled")  # steel-heavy, 30 t, daoli
    notes = Notification.objects.filter(user=processor, kind="wanted_match")
    assert notes.count() == 1
    assert lot.code in notes.get().body
    assert [m.to for m in sent_mail() if "重废钢" in m.subject or lot.title in m.subject] == [[processor.email]]
    # a second publication attempt of the same lot adds nothing
    services.wanted_match_lot(lot=lot)
    assert Notification.objects.filter(user=processor, kind="wanted_match").count() == 1
    assert WantedMatch.objects.filter(lot=lot).count() == 1


@pytest.mark.parametrize(
    ("overrides", "matches"),
    [
        ({}, True),
        ({"category": "paper"}, False),
        ({"quantity_min": Decimal("31")}, False),
        ({"quantity_max": Decimal("29")}, False),
        ({"quantity_min": None, "quantity_max": None}, True),
        ({"districts": ["songbei"]}, False),
        ({"districts": []}, True),
        ({"unit": "kg"}, False),
    ],
)
def test_match_rules(collector, processor, overrides, matches):
    if isinstance(overrides.get("category"), str):
        overrides["category"] = Category.objects.get(code=overrides["category"])
    _wanted(processor, **overrides)
    factories.make_lot(seller=collector, status="scheduled")
    assert Notification.objects.filter(user=processor, kind="wanted_match").exists() is matches


def test_expired_closed_or_suspended_requests_do_not_match(collector, processor):
    wanted = _wanted(processor)
    services.wanted_close(actor=processor, wanted_id=wanted.pk)
    expired = _wanted(processor)
    WantedRequest.objects.filter(pk=expired.pk).update(valid_until=timezone.localdate() - dt.timedelta(days=1))
    other = factories.make_member(Company.Role.PROCESSOR)
    _wanted(other)
    Company.objects.filter(pk=other.company_id).update(status="suspended")
    factories.make_lot(seller=collector, status="scheduled")
    assert not Notification.objects.filter(kind="wanted_match").exists()


def test_drafts_and_rejections_notify_nobody(collector, processor):
    _wanted(processor)
    factories.make_lot(seller=collector, status="pending_review")
    factories.make_lot(seller=collector, status="rejected")
    assert not Notification.objects.filter(kind="wanted_match").exists()
