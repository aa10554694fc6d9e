"""The bidding room and "My bids" as the server renders them: what a page says before (and
without) JavaScript, why a lot closed unsold, what the winner and the losers are told, and the
base template's favicon and phone menu."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Company
from auctions import selectors, services
from recycling.models import Lot
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(db):
    return factories.make_member(Company.Role.COLLECTOR, username="seller")


@pytest.fixture
def we(db):
    return factories.make_member(Company.Role.PROCESSOR, username="we")


@pytest.fixture
def rival(db):
    return factories.make_member(Company.Role.PROCESSOR, username="rival")


def _live(seller, **terms) -> Lot:
    return factories.make_live_lot(seller=seller, **{"deposit": Decimal("0.00"), **terms})


def _close(lot: Lot) -> Lot:
    lot.refresh_from_db()
    closed = services.lot_close(lot_id=lot.pk, now=lot.ends_at + dt.timedelta(seconds=1))
    assert closed is not None
    return closed


def _room(client, lot: Lot) -> str:
    response = client.get(f"/auctions/lots/{lot.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _by_testid(html: str, testid: str) -> str:
    """The opening tag and text of the element with `data-testid`, up to its first child tag."""
    match = re.search(rf'<[^>]*data-testid="{testid}"[^>]*>[^<]*', html)
    assert match, testid
    return match.group(0)


def test_without_javascript_the_room_shows_the_state_our_bids_and_says_updates_need_it(web_as, seller, we, rival):
    # Given a lot where we bid, then a rival outbid us
    lot = _live(seller)
    services.bid_place(actor=we, lot_id=lot.pk, amount="2300.00")
    services.bid_place(actor=rival, lot_id=lot.pk, amount="2350.00")

    # When we open the bidding room (the HTML alone, as without JavaScript)
    html = _room(web_as(we), lot)

    # Then it says live updates need JavaScript, hides the connection indicator (no socket),
    # tells us we are outbid and marks our own bid in the history
    assert "<noscript>" in html and "Live updates need JavaScript" in html
    assert re.search(r'data-testid="connection" hidden', html)
    assert 'data-standing="outbid">You have been outbid.<' in html
    row = r'<li class="live-bid[^"]*" data-seq="\d+">\s*<span class="live-bid-who">([^<]*)(<small[^>]*>[^<]*)?'
    rows = re.findall(row, html)
    assert [(who, bool(you)) for who, you in rows] == [("Bidder 2", False), ("Bidder 1", True)]
    assert "(you)" in rows[1][1]


def test_a_scheduled_lot_says_when_bidding_opens_next_to_the_button(web_as, seller, we):
    starts = timezone.now() + dt.timedelta(hours=2)
    lot = factories.make_lot(seller=seller, status="scheduled", starts_at=starts, deposit=Decimal("0.00"))

    html = _room(web_as(we), lot)

    local = timezone.localtime(Lot.objects.get(pk=lot.pk).starts_at, dt.timezone(dt.timedelta(hours=8)))
    note = _by_testid(html, "bid-note")
    assert 'data-kind="scheduled"' in note and "hidden" not in note
    assert "Bidding opens at <time datetime=" in html
    assert f">{local:%m-%d %H:%M}</time> (Beijing time)." in html
    # The header's badge is the lot's status, capitalised in English
    assert f'data-status="scheduled" data-lot-status="{lot.pk}">Scheduled</span>' in html


@pytest.mark.parametrize(
    "terms, bids, reason, says",
    [
        ({}, 0, "no_bids", "Nobody bid on it."),
        ({"reserve_price": Decimal("2400.00")}, 1, "reserve_not_met", "did not reach the seller's reserve price"),
        ({"min_bidders": 2}, 1, "min_bidders_not_met", "Fewer companies bid than the 2 this lot required."),
    ],
)
def test_a_lot_closed_unsold_says_why_with_its_highest_bid(web_as, seller, we, terms, bids, reason, says):
    # Given a lot that closes without a sale
    lot = _live(seller, **terms)
    if bids:
        services.bid_place(actor=we, lot_id=lot.pk, amount="2300.00")
    lot = _close(lot)
    assert lot.status == "unsold"

    # When we open its bidding room
    html = _room(web_as(we), lot)

    # Then the result says why, the price is the highest bid (never "current"), and the
    # snapshot a watcher gets carries the reason too
    assert "Closed without a sale." in html
    assert says in html
    assert f'data-reason="{reason}"' in html
    label = "Highest bid" if bids else "No bids · start price"
    assert f'data-role="price-label">{label}</p>' in html
    assert selectors.snapshot(lot_id=lot.pk, viewer=we)["reason"] == reason


def test_the_winner_gets_its_next_steps_and_a_loser_is_told_it_did_not_win(web_as, seller, we, rival):
    lot = _live(seller)
    services.bid_place(actor=rival, lot_id=lot.pk, amount="2300.00")
    services.bid_place(actor=we, lot_id=lot.pk, amount="2350.00")
    _close(lot)

    ours, theirs = _room(web_as(we), lot), _room(web_as(rival), lot)

    assert "You won this lot at ¥2,350.00/" in ours
    steps = _by_testid(ours, "next-steps")
    assert "hidden" not in steps
    assert f'href="/payments/lots/{lot.pk}/statement/"' in ours
    assert f'href="/logistics/lots/{lot.pk}/book/"' in ours
    assert 'data-mine="won"' in ours
    assert 'data-role="result-detail" hidden></p>' in ours
    assert "Sold at ¥2,350.00/t to Bidder 2." in theirs
    assert 'data-testid="result-detail" data-role="result-detail">You did not win this lot.<' in theirs
    assert 'data-mine="lost"' in theirs
    assert "hidden" in _by_testid(theirs, "next-steps")


def test_a_spent_proxy_maximum_is_marked_exceeded(web_as, seller, we, rival):
    lot = _live(seller)
    services.bid_place(actor=we, lot_id=lot.pk, amount="2300.00", max_amount="2500.00")
    services.bid_place(actor=rival, lot_id=lot.pk, amount="2600.00")

    html = _room(web_as(we), lot)
    row = web_as(we).get("/auctions/my-bids/").content.decode()

    assert "Your proxy maximum of ¥2,500.00 has been exceeded." in html
    assert "Your proxy maximum: ¥2,500.00" not in html
    assert "proxy maximum ¥2,500.00 exceeded" in row


def test_my_bids_names_the_price_of_a_closed_lot_the_highest_bid_and_watches_open_lots(web_as, seller, we):
    open_lot, unsold = _live(seller), _live(seller, reserve_price=Decimal("5000.00"))
    services.bid_place(actor=we, lot_id=open_lot.pk, amount="2300.00")
    services.bid_place(actor=we, lot_id=unsold.pk, amount="2300.00")
    _close(unsold)

    html = web_as(we).get("/auctions/my-bids/").content.decode()

    start = html.index(f'data-lot="{unsold.pk}"')
    closed_row = html[start : html.index("</li>", start)]
    assert "<dt>Highest bid</dt>" in closed_row and "Current price" not in closed_row
    assert "data-watch" not in closed_row
    watched = f'data-lot="{open_lot.pk}" data-outcome="leading" data-watch data-ws-path="/ws/lots/{open_lot.pk}/"'
    assert watched in html
    assert 'data-my-number="1"' in html
    assert 'id="my-bids-messages"' in html and "js/my_bids.js" in html


def test_every_page_links_its_favicon_and_has_a_menu_button(web):
    html = web.get("/").content.decode()

    assert re.search(r'<link rel="icon" href="/static/img/favicon\.svg" type="image/svg\+xml">', html)
    assert 'data-testid="nav-toggle"' in html and 'aria-controls="site-nav-menu"' in html
