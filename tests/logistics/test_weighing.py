"""Weighing: the receiving processor's ticket, the tolerance that opens a review, inspection
deductions feeding the net payable and the settled amount, the seller's 48-hour dispute
window, the cooperative's decision."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from PIL import Image

from auctions.models import LotEvent
from core.errors import DomainError
from core.models import Notification
from logistics import services
from logistics.models import Booking, Deduction, Weighing
from payments.models import Settlement
from recycling.models import Lot
from tests.logistics.conftest import advance_to, book, make_awarded_lot, quote, slot_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def platform_language():
    """Messages in the platform's language (zh-Hans), whatever language an earlier request's
    Accept-Language left active in this thread."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


def jpeg(name: str = "ticket.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 130, 140)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def delivered(booked, carrier_user):
    return advance_to(booked, carrier_user, "delivered")


def weigh(actor, booking, net: str, *, gross: str | None = None, **kwargs) -> Weighing:
    gross = gross or str(Decimal(net) + Decimal("15.200"))
    return services.weighing_record(
        actor=actor, booking_id=booking.pk, ticket_no="HB-20261102-0042", gross=gross, tare="15.200", net=net, **kwargs
    )


def test_the_receiving_processor_records_the_ticket(api, delivered, winner, seller):
    response = api.as_user(winner).post(
        f"/api/v1/bookings/{delivered.pk}/weighing/",
        {"ticket_no": "HB-0042", "gross": "44.800", "tare": "15.200", "net": "29.600", "photo": jpeg()},
        format="multipart",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "weighed"
    assert (body["weighing"]["net"], body["weighing"]["status"], body["weighing"]["deviation"]) == (
        "29.600",
        "open",
        "0.0133",
    )
    weighing = Weighing.objects.get(booking=delivered)
    assert weighing.dispute_until == weighing.recorded_at + dt.timedelta(hours=48)
    assert bool(weighing.photo)
    event = LotEvent.objects.filter(lot=delivered.lot).order_by("-seq").first()
    assert event.payload == {
        "step": "weighed",
        "booking": delivered.pk,
        "net": "29.600",
        "unit": "t",
        "within_tolerance": True,
        "deductions": "0.000",
    }
    assert Notification.objects.filter(user=seller, kind="booking_weighed").exists()


@pytest.mark.parametrize(
    ("who", "status", "code"), [("carrier", 403, "not_your_step"), ("seller", 403, "not_your_step")]
)
def test_only_the_receiver_weighs(api, delivered, carrier_user, seller, who, status, code):
    user = {"carrier": carrier_user, "seller": seller}[who]

    response = api.as_user(user).post(
        f"/api/v1/bookings/{delivered.pk}/weighing/",
        {"ticket_no": "X", "gross": "45", "tare": "15", "net": "30"},
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Weighing.objects.exists()


def test_weighing_before_delivery_is_a_bad_transition(booked, carrier_user, winner):
    advance_to(booked, carrier_user, "in_transit")

    with pytest.raises(DomainError) as exc:
        weigh(winner, booked, "30.000")

    assert (exc.value.status, exc.value.code) == (409, "bad_transition")
    assert Booking.objects.get(pk=booked.pk).status == "in_transit"


def test_net_must_be_gross_less_tare(delivered, winner):
    with pytest.raises(DomainError) as exc:
        weigh(winner, delivered, "30.000", gross="46.000")

    assert (exc.value.status, exc.value.code) == (400, "weights_inconsistent")
    assert not Weighing.objects.exists()


@pytest.mark.parametrize(
    ("net", "status"),
    [("30.000", "open"), ("28.500", "open"), ("31.500", "open"), ("28.499", "review"), ("31.600", "review")],
)
def test_the_tolerance_decides_between_the_sellers_window_and_a_review(delivered, winner, coop_admin, net, status):
    weighing = weigh(winner, delivered, net)

    assert weighing.status == status  # 30 t listed, 5 % tolerance: 28.5 … 31.5 stay open
    reviews = Notification.objects.filter(user=coop_admin, kind="weighing_review").count()
    assert reviews == (1 if status == "review" else 0)


def test_the_tolerance_is_a_setting(settings, delivered, winner):
    settings.LOGISTICS_WEIGHT_TOLERANCE = 0.01

    assert weigh(winner, delivered, "29.600").status == "review"


def test_deductions_feed_the_net_payable_and_the_settled_amount(delivered, winner, seller):
    # Listed 30 t at ¥2300.00/t; weighed 29.000 t; 扣杂 2 % = 0.580 t; 扣水 0.300 t.
    weighing = weigh(
        winner,
        delivered,
        "29.000",
        photo=jpeg(),
        deductions=[{"kind": "impurities", "percent": "2", "photo": jpeg("dirt.jpg")}],
    )
    services.deduction_add(actor=winner, booking_id=delivered.pk, kind="moisture", quantity="0.300", note="含水")

    weighing.refresh_from_db()
    assert [(d.kind, d.percent, d.quantity) for d in weighing.deductions.all()] == [
        ("impurities", Decimal("2.00"), Decimal("0.580")),
        ("moisture", None, Decimal("0.300")),
    ]
    assert weighing.provisional_payable == Decimal("28.120")

    services.weighing_accept(actor=seller, booking_id=delivered.pk)

    weighing.refresh_from_db()
    assert (weighing.status, weighing.net_payable, weighing.agreed_how) == ("agreed", Decimal("28.120"), "seller")
    settlement = Settlement.objects.get(lot=delivered.lot)
    # 2300.00 × 28.120 = 64676.00; the buyer's fee (2 %) is 1293.52.
    assert (settlement.net_quantity, settlement.gross, settlement.buyer_fee) == (
        Decimal("28.120"),
        Decimal("64676.00"),
        Decimal("1293.52"),
    )
    assert settlement.weighing_ref == "HB-20261102-0042"
    agreed = LotEvent.objects.filter(lot=delivered.lot).order_by("-seq").first()
    assert agreed.payload == {
        "step": "weight_agreed",
        "booking": delivered.pk,
        "net_payable": "28.120",
        "unit": "t",
        "how": "seller",
    }


def test_deductions_must_leave_a_net_weight(delivered, winner):
    weigh(winner, delivered, "30.000")

    with pytest.raises(DomainError) as exc:
        services.deduction_add(actor=winner, booking_id=delivered.pk, kind="other", quantity="30.000")

    assert exc.value.code == "deduction_too_large"
    assert not Deduction.objects.exists()


def test_a_deduction_reopens_the_sellers_window(delivered, winner):
    weighing = weigh(winner, delivered, "30.000")
    Weighing.objects.filter(pk=weighing.pk).update(dispute_until=timezone.now() + dt.timedelta(hours=1))

    services.deduction_add(actor=winner, booking_id=delivered.pk, kind="impurities", percent="1.5")

    weighing.refresh_from_db()
    assert weighing.dispute_until > timezone.now() + dt.timedelta(hours=47)


def test_the_seller_disputes_within_48_hours_and_the_cooperative_decides(api, delivered, winner, seller, coop_admin):
    weigh(winner, delivered, "29.000", deductions=[{"kind": "moisture", "percent": "5"}])

    disputed = api.as_user(seller).post(
        f"/api/v1/bookings/{delivered.pk}/weighing/dispute/", {"reason": "含水率不可能到 5%"}, format="json"
    )
    assert disputed.json()["weighing"]["status"] == "disputed"
    assert Notification.objects.filter(user=coop_admin, kind="weighing_disputed").exists()
    # Nobody but the cooperative decides, and never without a reason.
    assert (
        api.as_user(winner).post(f"/api/v1/bookings/{delivered.pk}/weighing/decide/", {"reason": "x"}).status_code
        == 403
    )
    no_reason = api.as_user(coop_admin).post(f"/api/v1/bookings/{delivered.pk}/weighing/decide/", {}, format="json")
    assert no_reason.status_code == 400

    decided = api.as_user(coop_admin).post(
        f"/api/v1/bookings/{delivered.pk}/weighing/decide/",
        {"reason": "复检含水 2%", "net_payable": "28.420"},
        format="json",
    )

    weighing = decided.json()["weighing"]
    assert (weighing["status"], weighing["net_payable"], weighing["decision_reason"]) == (
        "agreed",
        "28.420",
        "复检含水 2%",
    )
    assert Settlement.objects.get(lot=delivered.lot).gross == Decimal("65366.00")  # 2300 × 28.42


def test_a_dispute_after_48_hours_is_refused(delivered, winner, seller):
    weighing = weigh(winner, delivered, "30.000")
    Weighing.objects.filter(pk=weighing.pk).update(dispute_until=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(DomainError) as exc:
        services.weighing_dispute(actor=seller, booking_id=delivered.pk, reason="太轻")

    assert (exc.value.status, exc.value.code) == (409, "dispute_window_closed")
    assert Weighing.objects.get(pk=weighing.pk).status == "open"


def test_only_the_seller_disputes(delivered, winner, carrier_user):
    weigh(winner, delivered, "30.000")

    for user in (winner, carrier_user):
        with pytest.raises(DomainError) as exc:
            services.weighing_dispute(actor=user, booking_id=delivered.pk, reason="?")
        assert exc.value.code == "not_your_step"


def test_an_undisputed_weight_is_agreed_when_the_window_closes(delivered, winner):
    weighing = weigh(winner, delivered, "29.500", deductions=[{"kind": "impurities", "quantity": "0.500"}])

    assert services.weighings_finalize_due() == []  # still inside the window

    later = timezone.now() + dt.timedelta(hours=48, seconds=1)
    assert services.weighings_finalize_due(now=later) == [delivered.pk]

    weighing.refresh_from_db()
    assert (weighing.status, weighing.net_payable, weighing.agreed_how) == ("agreed", Decimal("29.000"), "window")
    assert Settlement.objects.get(lot=delivered.lot).gross == Decimal("66700.00")
    assert services.weighings_finalize_due(now=later) == []  # once


def test_a_weight_under_review_waits_for_the_cooperative(delivered, winner, seller, coop_admin):
    weigh(winner, delivered, "25.000")

    with pytest.raises(DomainError) as exc:
        services.weighing_accept(actor=seller, booking_id=delivered.pk)
    assert exc.value.code == "bad_transition"
    assert services.weighings_finalize_due(now=timezone.now() + dt.timedelta(days=5)) == []

    services.weighing_decide(actor=coop_admin, booking_id=delivered.pk, reason="过磅单复核无误")

    assert Settlement.objects.get(lot=delivered.lot).net_quantity == Decimal("25.000")


# Plausibility: a net weight above 10 × the listing (a unit mistake: kg typed on a lot in t is
# × 1000) or a gross above 150 t a trip is refused before anything is written.


@pytest.fixture
def small_delivered(seller, winner, carrier_user, truck):
    """A delivered booking of a 12.5 t lot (one trip of the 18 t truck)."""
    lot = make_awarded_lot(seller=seller, winner=winner, quantity=Decimal("12.500"))
    booking = book(winner, lot, quote(winner, lot, slot_for(lot))[0])
    return advance_to(booking, carrier_user, "delivered")


def ledger_of(lot_id: int) -> tuple[int, int]:
    return Lot.objects.get(pk=lot_id).seq, LotEvent.objects.filter(lot_id=lot_id).count()


def assert_booking_pages_answer(api, user, booking) -> None:
    client = api.as_user(user)
    assert client.get(f"/api/v1/bookings/{booking.pk}/").status_code == 200
    assert client.get("/api/v1/bookings/").status_code == 200
    assert client.get(f"/api/v1/lots/{booking.lot_id}/bookings/").status_code == 200


def test_the_audits_overflowing_weight_is_refused_and_nothing_changes(api, small_delivered, winner, seller):
    before = ledger_of(small_delivered.lot_id)
    steps = small_delivered.steps.count()

    response = api.as_user(winner).post(
        f"/api/v1/bookings/{small_delivered.pk}/weighing/",
        {"ticket_no": "T1", "gross": "999999999.000", "tare": "0.000", "net": "999999999.000"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "implausible_weight",
        "detail": "A net weight of 999999999 is more than 10 times the 12.5 t listed: is it in another unit? "
        "Enter the weights in the lot's unit (t).",
        "fields": {"net": ["More than 10 × the listed quantity."]},
    }
    assert Booking.objects.get(pk=small_delivered.pk).status == "delivered"
    assert not Weighing.objects.exists()
    assert ledger_of(small_delivered.lot_id) == before
    assert small_delivered.steps.count() == steps
    assert not Notification.objects.filter(kind__in=["booking_weighed", "weighing_review"]).exists()
    for user in (winner, seller):
        assert_booking_pages_answer(api, user, small_delivered)


def test_kilograms_typed_on_a_lot_in_tonnes_are_named(api, small_delivered, winner):
    before = ledger_of(small_delivered.lot_id)

    english = api.as_user(winner).post(
        f"/api/v1/bookings/{small_delivered.pk}/weighing/",
        {"ticket_no": "T1", "gross": "27680", "tare": "15200", "net": "12480"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    chinese = api.as_user(winner).post(
        f"/api/v1/bookings/{small_delivered.pk}/weighing/",
        {"ticket_no": "T1", "gross": "27680", "tare": "15200", "net": "12480"},
        format="json",
    )

    assert (english.status_code, english.json()["code"]) == (400, "implausible_weight")
    assert english.json()["detail"] == (
        "A net weight of 12480 is more than 10 times the 12.5 t listed: is it in another unit? "
        "Enter the weights in the lot's unit (t). 12480 kg is 12.48 t."
    )
    assert chinese.json()["detail"] == (
        "净重 12480 超过挂牌数量 12.5 吨的 10 倍：是否用了别的单位？"
        "请按本标的的单位（吨）填写重量。12480 千克即 12.48 吨。"
    )
    assert Booking.objects.get(pk=small_delivered.pk).status == "delivered"
    assert not Weighing.objects.exists()
    assert ledger_of(small_delivered.lot_id) == before


def test_a_net_weight_at_ten_times_the_listing_passes_for_review(api, small_delivered, winner, seller):
    response = api.as_user(winner).post(
        f"/api/v1/bookings/{small_delivered.pk}/weighing/",
        {"ticket_no": "T1", "gross": "140.000", "tare": "15.000", "net": "125.000"},
        format="json",
    )

    assert response.status_code == 200
    weighing = Weighing.objects.get(booking=small_delivered)
    assert (weighing.net, weighing.deviation, weighing.status) == (Decimal("125.000"), Decimal("9.0000"), "review")
    assert response.json()["weighing"]["deviation"] == "9.0000"
    for user in (winner, seller):
        assert_booking_pages_answer(api, user, small_delivered)


def test_a_gram_past_ten_times_the_listing_is_refused(small_delivered, winner):
    with pytest.raises(DomainError) as exc:
        weigh(winner, small_delivered, "125.001")

    assert (exc.value.status, exc.value.code, exc.value.fields) == (
        400,
        "implausible_weight",
        {"net": ["超过挂牌数量的 10 倍。"]},
    )
    assert not Weighing.objects.exists()


def test_a_gross_heavier_than_the_bookings_trucks_is_refused(delivered, winner):
    assert delivered.trips == 2  # 30 t on an 18 t truck: at most 2 × 150 t on the bridge
    before = ledger_of(delivered.lot_id)

    with pytest.raises(DomainError) as exc:
        services.weighing_record(
            actor=winner, booking_id=delivered.pk, ticket_no="T1", gross="300.001", tare="270.001", net="30.000"
        )

    assert (exc.value.status, exc.value.code, exc.value.fields) == (
        400,
        "implausible_weight",
        {"gross": ["超过 300 吨。"]},
    )
    assert str(exc.value.detail) == "毛重 300.001 超过满载货车的重量：2 趟最多 300 吨。请按本标的的单位（吨）填写重量。"
    assert Booking.objects.get(pk=delivered.pk).status == "delivered"
    assert not Weighing.objects.exists()
    assert ledger_of(delivered.lot_id) == before
    weighing = services.weighing_record(
        actor=winner, booking_id=delivered.pk, ticket_no="T1", gross="300.000", tare="270.000", net="30.000"
    )
    assert weighing.gross == Decimal("300.000")


def test_a_lot_in_kilograms_is_weighed_in_kilograms(seller, winner, carrier_user, truck):
    lot = make_awarded_lot(seller=seller, winner=winner, quantity=Decimal("800.000"), unit="kg")
    booking = advance_to(book(winner, lot, quote(winner, lot, slot_for(lot))[0]), carrier_user, "delivered")

    weighing = services.weighing_record(
        actor=winner, booking_id=booking.pk, ticket_no="T1", gross="15790", tare="15000", net="790"
    )

    assert (weighing.net, weighing.unit, weighing.deviation, weighing.status) == (
        Decimal("790.000"),
        "kg",
        Decimal("0.0125"),
        "open",
    )


def test_the_cooperative_cannot_decide_an_implausible_net_payable(api, delivered, winner, coop_admin):
    weigh(winner, delivered, "25.000")  # 30 t listed: under review
    before = ledger_of(delivered.lot_id)

    response = api.as_user(coop_admin).post(
        f"/api/v1/bookings/{delivered.pk}/weighing/decide/",
        {"reason": "复核", "net_payable": "30000"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "implausible_weight",
        "detail": "A net payable of 30000 is more than 10 times the 30 t listed: is it in another unit? "
        "Give it in the lot's unit (t). 30000 kg is 30 t.",
        "fields": {"net_payable": ["More than 10 × the listed quantity."]},
    }
    weighing = Weighing.objects.get(booking=delivered)
    assert (weighing.status, weighing.net_payable) == ("review", None)
    assert not Settlement.objects.filter(lot=delivered.lot).exists()
    assert ledger_of(delivered.lot_id) == before


def test_a_percentage_deduction_rounding_to_zero_is_refused(delivered, winner):
    weighing = weigh(winner, delivered, "4.000")  # 0.01 % of 4 t is 0.4 kg: 0.000 t
    before = ledger_of(delivered.lot_id)

    with pytest.raises(DomainError) as exc:
        services.deduction_add(actor=winner, booking_id=delivered.pk, kind="impurities", percent="0.01")

    assert (exc.value.status, exc.value.code, exc.value.fields) == (
        400,
        "invalid_deduction",
        {"percent": ["舍入后为零。"]},
    )
    assert not Deduction.objects.exists()
    assert Weighing.objects.get(pk=weighing.pk).dispute_until == weighing.dispute_until
    assert ledger_of(delivered.lot_id) == before


def test_a_ticket_stored_before_the_bound_reads_back_and_the_cooperative_decides_it(
    api, small_delivered, winner, seller, coop_admin
):
    # What the audit left on SQLite: net 999999999 t on 12.5 t listed, deviation 79999998.92.
    weigh(winner, small_delivered, "12.500")
    Weighing.objects.filter(booking=small_delivered).update(
        gross=Decimal("999999999.000"),
        tare=Decimal("0.000"),
        net=Decimal("999999999.000"),
        deviation=Decimal("79999998.9200"),
        status="review",
    )

    detail = api.as_user(seller).get(f"/api/v1/bookings/{small_delivered.pk}/")
    assert detail.json()["weighing"]["deviation"] == "79999998.9200"
    assert_booking_pages_answer(api, winner, small_delivered)

    services.weighing_decide(
        actor=coop_admin,
        booking_id=small_delivered.pk,
        reason="磅单录成 999999999，复磅 12.480 吨",
        net_payable="12.480",
    )

    assert Settlement.objects.get(lot=small_delivered.lot).net_quantity == Decimal("12.480")
