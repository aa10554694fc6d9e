"""Auction pages: "My bids" (leading / outbid / won / lost, one query however many lots), the live
bidding panel for each kind of viewer, the bidding room, and the bid form without JavaScript."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Company
from auctions import services
from auctions.models import Bid
from auctions.views import live_context
from recycling.models import Lot
from tests import factories

pytestmark = pytest.mark.django_db

MY_BIDS = "/auctions/my-bids/"


@pytest.fixture(autouse=True)
def _english(client):
    """English pages, so the assertions hold whatever the catalogues say."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _rows(html: str) -> dict[int, str]:
    """lot id → its row's outcome on the My bids page."""
    return {int(lot): outcome for lot, outcome in re.findall(r'data-lot="(\d+)" data-outcome="(\w+)"', html)}


def _row(html: str, lot_id: int) -> str:
    start = html.index(f'data-lot="{lot_id}"')
    return html[start : html.index("</li>", start)]


def _close(lot: Lot) -> Lot:
    lot.refresh_from_db()
    closed = services.lot_close(lot_id=lot.pk, now=lot.ends_at + dt.timedelta(seconds=1))
    assert closed is not None
    return closed


# --- My bids ------------------------------------------------------------------------------


def test_processors_find_my_bids_in_the_navigation(client, bidders, collector):
    (we,) = bidders(1)
    client.force_login(we)
    assert f'href="{MY_BIDS}" data-testid="nav-my-bids"' in client.get("/").content.decode()
    client.force_login(collector)  # sellers do not bid
    assert 'data-testid="nav-my-bids"' not in client.get("/").content.decode()


def test_my_bids_shows_leading_and_outbid_with_our_highest_bid_and_the_price(client, live_lot, bidders):
    # Given two open lots: we lead on the first, a rival outbid us on the second
    we, rival = bidders(2)
    leading, outbid = live_lot(), live_lot()
    services.bid_place(actor=we, lot_id=leading.pk, amount="2300.00")
    services.bid_place(actor=we, lot_id=outbid.pk, amount="2300.00")
    services.bid_place(actor=we, lot_id=outbid.pk, amount="2400.00")
    services.bid_place(actor=rival, lot_id=outbid.pk, amount="2500.00")
    client.force_login(we)

    # When we open My bids
    response = client.get(MY_BIDS)

    # Then each lot is listed once with its standing, our highest bid and the lot's price
    assert response.status_code == 200
    html = response.content.decode()
    assert _rows(html) == {leading.pk: "leading", outbid.pk: "outbid"}
    assert 'data-testid="my-top">¥2,300.00/' in _row(html, leading.pk)
    assert 'data-testid="lot-price">¥2,300.00/' in _row(html, leading.pk)
    assert 'data-testid="my-top">¥2,400.00/' in _row(html, outbid.pk)
    assert 'data-testid="lot-price">¥2,500.00/' in _row(html, outbid.pk)
    assert "2 bids as" in _row(html, outbid.pk)
    assert 'data-group="open"' in html and 'data-group="closed"' not in html


def test_a_proxy_answer_keeps_us_leading_and_our_ceiling_is_shown_to_us_only(client, live_lot, bidders):
    we, rival = bidders(2)
    lot = live_lot()
    services.bid_place(actor=we, lot_id=lot.pk, amount="2300.00", max_amount="3000.00")
    services.bid_place(actor=rival, lot_id=lot.pk, amount="2500.00")

    client.force_login(we)
    html = client.get(MY_BIDS).content.decode()
    assert _rows(html) == {lot.pk: "leading"}
    assert "proxy up to ¥3,000.00" in _row(html, lot.pk)
    assert 'data-testid="my-top">¥2,550.00/' in _row(html, lot.pk)

    client.force_login(rival)
    html = client.get(MY_BIDS).content.decode()
    assert _rows(html) == {lot.pk: "outbid"}
    assert "3,000.00" not in html


def test_my_bids_shows_won_and_lost_once_the_lots_close(client, live_lot, bidders):
    # Given three lots that closed: one we won, one a rival won, one unsold (reserve not met)
    we, rival = bidders(2)
    won, lost = live_lot(), live_lot()
    unsold = live_lot(reserve_price=Decimal("9000.00"))
    services.bid_place(actor=rival, lot_id=won.pk, amount="2300.00")
    services.bid_place(actor=we, lot_id=won.pk, amount="2600.00")
    services.bid_place(actor=we, lot_id=lost.pk, amount="2300.00")
    services.bid_place(actor=rival, lot_id=lost.pk, amount="2350.00")
    services.bid_place(actor=we, lot_id=unsold.pk, amount="2300.00")
    for lot in (won, lost, unsold):
        _close(lot)
    client.force_login(we)

    # When we open My bids
    html = client.get(MY_BIDS).content.decode()

    # Then: won, lost, lost; the final price of the awarded ones
    assert _rows(html) == {won.pk: "won", lost.pk: "lost", unsold.pk: "lost"}
    assert 'data-testid="lot-price">¥2,600.00/' in _row(html, won.pk)
    assert 'data-testid="lot-price">¥2,350.00/' in _row(html, lost.pk)
    assert 'data-status="unsold"' in _row(html, unsold.pk)
    assert 'data-group="closed"' in html and 'data-group="open"' not in html
    assert "won 1 lot" in html


def test_an_open_sealed_lot_shows_our_bid_but_neither_the_price_nor_who_leads(client, live_lot, bidders):
    we, rival = bidders(2)
    lot = live_lot(format="sealed", bid_increment=None)
    services.bid_place(actor=we, lot_id=lot.pk, amount="2400.00")
    services.bid_place(actor=rival, lot_id=lot.pk, amount="2900.00")
    client.force_login(we)

    html = client.get(MY_BIDS).content.decode()

    assert _rows(html) == {lot.pk: "sealed"}
    assert 'data-testid="my-top">¥2,400.00/' in _row(html, lot.pk)
    assert "2,900.00" not in html


def test_my_bids_lists_only_our_company_and_says_so_when_empty(client, live_lot, bidders):
    we, rival = bidders(2)
    services.bid_place(actor=rival, lot_id=live_lot().pk, amount="2300.00")
    client.force_login(we)

    html = client.get(MY_BIDS).content.decode()

    assert _rows(html) == {}
    assert 'data-testid="no-bids"' in html


def test_my_bids_takes_a_bounded_number_of_queries_however_many_lots(client, live_lot, bidders):
    # Given our company bid on one lot, then on six (some lost to a rival, one closed)
    we, rival = bidders(2)
    client.force_login(we)

    def bid_on_new_lot(outbid: bool = False) -> Lot:
        lot = live_lot()
        services.bid_place(actor=we, lot_id=lot.pk, amount="2300.00")
        if outbid:
            services.bid_place(actor=rival, lot_id=lot.pk, amount="2350.00")
        return lot

    bid_on_new_lot()
    client.get(MY_BIDS)  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(MY_BIDS).status_code == 200
    for n in range(5):
        lot = bid_on_new_lot(outbid=n % 2 == 0)
    _close(lot)

    # When the page is rendered again
    with CaptureQueriesContext(connection) as six:
        response = client.get(MY_BIDS)

    # Then it takes exactly as many queries (no per-lot query), and few
    assert len(_rows(response.content.decode())) == 6
    assert len(six) == len(one), [q["sql"] for q in six.captured_queries]
    lot_queries = [q for q in six.captured_queries if 'FROM "recycling_lot"' in q["sql"]]
    assert len(lot_queries) == 2  # the page's count and the page's rows
    assert len(six) <= 8


def test_my_bids_sends_anonymous_visitors_to_log_in(client):
    response = client.get(MY_BIDS)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/auctions/my-bids/"


@pytest.mark.parametrize(
    ("who", "says"),
    [
        ("collector", "Only processor companies bid on lots. Your company is a"),
        ("admin", "Cooperative admins do not bid."),
        ("carrier", "Only processor companies bid on lots."),
    ],
)
def test_my_bids_explains_itself_to_those_who_do_not_bid(client, who, says):
    user = {
        "collector": lambda: factories.make_member(Company.Role.COLLECTOR),
        "admin": factories.make_admin,
        "carrier": lambda: factories.make_member(Company.Role.CARRIER),
    }[who]()
    client.force_login(user)

    response = client.get(MY_BIDS)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="not-bidder"' in html
    assert says in html
    assert "data-outcome" not in html


def test_a_suspended_processor_still_sees_its_bids_and_why_it_cannot_bid(client, live_lot, bidders):
    (we,) = bidders(1)
    lot = live_lot()
    services.bid_place(actor=we, lot_id=lot.pk, amount="2300.00")
    Company.objects.filter(pk=we.company_id).update(status=Company.Status.SUSPENDED)
    client.force_login(we)

    html = client.get(MY_BIDS).content.decode()

    assert _rows(html) == {lot.pk: "leading"}
    assert 'data-testid="not-verified"' in html


# --- The live panel ----------------------------------------------------------------------


def _panel(user, lot: Lot) -> str:
    """The include alone, as the lot page will render it."""
    request = RequestFactory().get(f"/lots/{lot.pk}/")
    request.user = user
    lot = Lot.objects.get(pk=lot.pk)
    template = Template('{% include "auctions/_live_panel.html" %}')
    return template.render(Context({"request": request, "live": live_context(request, lot), "lot": lot}))


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def test_the_panel_asks_anonymous_visitors_to_log_in(live_lot):
    lot = live_lot()

    html = _panel(_anonymous(), lot)

    assert 'data-testid="live-panel"' in html
    assert 'data-reason="anonymous"' in html
    assert f'href="/accounts/login/?next=%2Flots%2F{lot.pk}%2F"' in html
    assert 'data-testid="bid-form"' not in html
    assert f'data-ws-path="/ws/lots/{lot.pk}/"' in html


@pytest.mark.parametrize(
    ("make_user", "reason", "says"),
    [
        (lambda lot: factories.make_member(Company.Role.COLLECTOR), "wrong_role", "Only processor companies"),
        (lambda lot: lot.created_by, "own_lot", "This is your company&#x27;s lot"),
        (
            lambda lot: factories.make_member(Company.Role.PROCESSOR, Company.Status.PENDING),
            "company_not_verified",
            "must be verified by the cooperative first",
        ),
        (lambda lot: factories.make_admin(), "admin", "Cooperative admins watch auctions"),
    ],
    ids=["collector", "seller", "pending-processor", "cooperative-admin"],
)
def test_the_panel_tells_others_why_they_cannot_bid(live_lot, make_user, reason, says):
    lot = live_lot()

    html = _panel(make_user(lot), lot)

    assert f'data-reason="{reason}"' in html
    assert says in html
    assert 'data-testid="bid-form"' not in html
    assert 'data-testid="login-link"' not in html


def test_the_panel_gives_a_verified_processor_the_form_prefilled_with_the_minimum(live_lot, bidders):
    # Given a live English lot (start 2300, increment 50) with one bid by a rival
    we, rival = bidders(2)
    lot = live_lot()
    services.bid_place(actor=rival, lot_id=lot.pk, amount="2300.00")

    html = _panel(we, lot)

    assert 'data-testid="bid-form"' in html
    assert 'data-testid="cannot-bid"' not in html
    assert re.search(r'name="amount"[^>]*min="2350.00" value="2350.00"', html)
    assert 'name="max_amount"' in html
    assert 'data-increment="50.00"' in html
    assert 'data-testid="current-price">¥2,300.00/' in html
    assert 'data-state="connecting"' in html
    assert 'data-my-number=""' in html  # not a bidder on this lot yet
    assert 'data-seq="' in html and "¥2,300.00</span>" in html  # the history, rendered for no-JS


def test_the_panel_knows_our_alias_and_proxy_ceiling(live_lot, bidders):
    we, rival = bidders(2)
    lot = live_lot()
    services.bid_place(actor=rival, lot_id=lot.pk, amount="2300.00")
    services.bid_place(actor=we, lot_id=lot.pk, amount="2350.00", max_amount="2800.00")

    ours, theirs = _panel(we, lot), _panel(rival, lot)

    assert 'data-my-number="2"' in ours and 'data-my-max="2800.00"' in ours
    assert "Your proxy maximum: ¥2,800.00" in ours
    assert 'data-my-number="1"' in theirs and 'data-my-max=""' in theirs
    assert "2,800.00" not in theirs


def test_the_panel_of_a_lot_on_the_default_ladder_carries_the_ladder(live_lot, bidders):
    lot = live_lot(bid_increment=None)
    (we,) = bidders(1)

    html = _panel(we, lot)

    assert 'data-increment=""' in html
    assert (
        '[["1000.00", "10.00"], ["5000.00", "50.00"], ["20000.00", "100.00"], ["50000.00", "200.00"], [null, "500.00"]]'
        in html
    )
    assert re.search(r'name="amount"[^>]*value="2300.00"', html)


def test_a_sealed_lot_hides_amounts_and_offers_no_proxy(live_lot, bidders):
    we, rival = bidders(2)
    lot = live_lot(format="sealed", bid_increment=None, reserve_price=Decimal("2500.00"))
    services.bid_place(actor=rival, lot_id=lot.pk, amount="2900.00")

    html = _panel(we, lot)

    assert "2,900.00" not in html and "2900.00" not in html
    assert '<span class="live-bid-amount">sealed</span>' in html
    assert 'name="max_amount"' not in html
    assert 'data-reserve="hidden"' in html
    assert 'data-testid="current-price">¥2,300.00/' in html  # the start price, labelled sealed


def test_a_closed_lot_shows_the_result_and_no_form(live_lot, bidders):
    we, rival = bidders(2)
    lot = live_lot()
    services.bid_place(actor=rival, lot_id=lot.pk, amount="2300.00")
    services.bid_place(actor=we, lot_id=lot.pk, amount="2450.00")
    _close(lot)

    ours, theirs = _panel(we, lot), _panel(rival, lot)

    for html in (ours, theirs):
        assert 'data-state="closed"' in html
        assert 'data-testid="bid-form"' not in html
        assert 'data-testid="current-price">¥2,450.00/' in html
    assert "You won this lot at ¥2,450.00/" in ours
    assert re.search(r"Sold at ¥2,450.00/\S+ to (Bidder|竞买人) 2\.", theirs)


def test_the_panel_renders_nothing_without_its_context():
    assert Template('{% include "auctions/_live_panel.html" %}').render(Context({})).strip() == ""


# --- The bidding room and the bid form without JavaScript --------------------------------


def test_the_bidding_room_shows_the_panel_to_anyone(client, live_lot):
    lot = live_lot()

    response = client.get(f"/auctions/lots/{lot.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="live-panel"' in html
    assert 'data-reason="anonymous"' in html
    assert "js/live.js" in html and "defer" in html


def test_the_bidding_room_is_404_for_a_draft_and_an_unknown_lot(client, collector):
    draft = factories.make_lot(seller=collector)

    client.force_login(collector)  # the seller may see its draft's page, but there is no auction
    assert client.get(f"/auctions/lots/{draft.pk}/").status_code == 404
    assert client.get("/auctions/lots/999999/").status_code == 404


def test_a_bid_posted_without_javascript_goes_through_the_engine(client, live_lot, bidders):
    (we,) = bidders(1)
    lot = live_lot()
    client.force_login(we)

    response = client.post(f"/auctions/lots/{lot.pk}/bid/", {"amount": "2300.00", "next": f"/lots/{lot.pk}/"})

    assert response.status_code == 302 and response["Location"] == f"/lots/{lot.pk}/"
    bid = Bid.objects.get(lot=lot)
    assert (bid.amount, bid.bidder_id, bid.placed_by_id) == (Decimal("2300.00"), we.company_id, we.pk)
    page = client.get(f"/auctions/lots/{lot.pk}/").content.decode()
    assert "you are the highest bidder" in page


def test_a_refused_posted_bid_changes_nothing_and_says_why(client, live_lot, bidders):
    we, rival = bidders(2)
    lot = live_lot()
    services.bid_place(actor=rival, lot_id=lot.pk, amount="2300.00")
    lot.refresh_from_db()
    client.force_login(we)

    response = client.post(f"/auctions/lots/{lot.pk}/bid/", {"amount": "2300.00", "next": "https://evil.example/"})

    assert response.status_code == 302 and response["Location"] == f"/auctions/lots/{lot.pk}/"
    after = Lot.objects.get(pk=lot.pk)
    assert (after.current_price, after.bid_count, after.seq) == (lot.current_price, lot.bid_count, lot.seq)
    assert Bid.objects.filter(lot=lot).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "The minimum bid is ¥2,350.00." in page


def test_posting_a_bid_needs_a_login(client, live_lot):
    lot = live_lot()

    response = client.post(f"/auctions/lots/{lot.pk}/bid/", {"amount": "2300.00"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Bid.objects.exists()


def test_the_panel_of_a_scheduled_lot_counts_down_to_the_start(live_lot, bidders, collector):
    (we,) = bidders(1)
    starts = timezone.now() + dt.timedelta(hours=2)
    lot = factories.make_lot(seller=collector, status="scheduled", starts_at=starts)

    html = _panel(we, lot)

    assert lot.status == "scheduled"
    assert 'data-status="scheduled"' in html
    assert f'data-starts-at="{Lot.objects.get(pk=lot.pk).starts_at.isoformat()}"' in html
    assert ">Starts<" in html
