"""Auction pages: the live bidding panel (an include of the lot page, fed by `live_context`),
the bidding room page, the no-JavaScript bid form, and the processor's "My bids".

Bids from the page normally go over the WebSocket (static/js/live.js); every path ends in
the same service, auctions.services.bid_place."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, IntegerField, Max, OuterRef, QuerySet, Subquery, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import Company
from accounts.services import require_verified_company
from auctions import selectors, services
from auctions.events import bidder_alias
from auctions.models import Bid, Bidder
from core.errors import DomainError
from recycling.models import Lot
from recycling.selectors import lot_for
from recycling.templatetags.board import unit_label

MY_BIDS_PER_PAGE = 50
MY_BIDS_WATCHED = 20  # open lots "My bids" follows over their sockets, at most
CLOSED = (Lot.Status.AWARDED, Lot.Status.UNSOLD, Lot.Status.WITHDRAWN)
OPEN = (Lot.Status.SCHEDULED, Lot.Status.LIVE)


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _url(name: str, *args: Any) -> str:
    """ "" while this app's pages are not mounted, so the lot page never breaks on our account."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


# --- The live panel -----------------------------------------------------------------------


def _bid_blocker(user: Any, lot: Lot) -> tuple[str, str] | None:
    """Why this viewer cannot bid on `lot` (a code for tests and styling, a sentence for people),
    or None. The lot's own status is the panel's business, not a reason here."""
    if not user.is_authenticated:
        return "anonymous", _("Log in with a verified processor's account to bid.")
    if user.is_cooperative_admin and not user.company_id:
        return "admin", _("Cooperative admins watch auctions; they do not bid.")
    if user.company_id and user.company_id == lot.seller_id:
        return "own_lot", _("This is your company's lot: you cannot bid on it.")
    try:
        require_verified_company(user, role=Company.Role.PROCESSOR)
    except DomainError as exc:
        # The service's own sentence ("must be verified first", "only processor companies").
        return exc.code, exc.detail
    return None


def status_labels() -> dict[str, str]:
    """The lot statuses as the page shows them ("Live", "Awarded"), for the scripts that update
    a status badge."""
    return {value: capfirst(str(label)) for value, label in Lot.Status.choices}


def close_reasons(lot: Lot) -> dict[str, str]:
    """Why a lot closed without a sale, in words, by the reason code of its `closed` event."""
    return {
        "no_bids": _("Nobody bid on it."),
        "reserve_not_met": _("The highest bid did not reach the seller's reserve price."),
        "min_bidders_not_met": _("Fewer companies bid than the %(n)s this lot required.") % {"n": lot.min_bidders},
    }


def _js_messages(lot: Lot) -> dict[str, Any]:
    """Every sentence live.js shows, translated here (the page's language), never in the JS."""
    return {
        # The connection indicator speaks of the connection only; the lot's status is the badge's.
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Reconnecting…"),
        "offline": _("Connection lost: bidding is paused on this page while it reconnects."),
        "stale": _("%(text)s (as of the last update)"),
        "opens_at": _("Bidding opens at %(time)s (Beijing time)."),
        "status_labels": status_labels(),
        "reasons": close_reasons(lot),
        "you_lost": _("You did not win this lot."),
        "proxy_exceeded": _("Your proxy maximum of %(amount)s has been exceeded."),
        "price_highest": _("Highest bid"),
        "price_no_bids": _("No bids · start price"),
        "show_all": _("Show all %(n)s bids"),
        "show_fewer": _("Show the latest only"),
        "ends_in": _("Ends in"),
        "starts_in": _("Starts in"),
        "closing": _("closing…"),
        "opening": _("opening…"),
        "ended": _("Bidding has ended"),
        "extended": _("A late bid extended the auction: it now ends at %(time)s."),
        "leading": _("You are the highest bidder."),
        "outbid": _("You have been outbid."),
        "sealed_in": _("Your sealed bid of %(amount)s is in. You may raise it until the end."),
        "bid_sending": _("Sending your bid…"),
        "bid_ok_leading": _("Your bid of %(amount)s is in: you are the highest bidder."),
        "bid_ok_outbid": _("Your bid of %(amount)s is in, but another bidder's proxy maximum is higher."),
        "bid_ok_sealed": _("Your sealed bid of %(amount)s is in."),
        "not_connected": _("Not connected yet: wait a moment and try again."),
        "no_answer": _("No answer from the server; check the bid history before bidding again."),
        "price_current": _("Current price"),
        "price_start": _("No bids yet · start price"),
        "price_final": _("Final price"),
        "price_sealed": _("Sealed bids · start price"),
        "awarded": _("Sold at %(price)s to %(winner)s."),
        "you_won": _("You won this lot at %(price)s."),
        "unsold": _("Closed without a sale."),
        "withdrawn": _("Withdrawn by the cooperative."),
        "reserve_met": _("Reserve met"),
        "reserve_not_met": _("Reserve not met"),
        "no_reserve": _("No reserve"),
        "bids_one": _("%(n)s bid"),
        "bids_many": _("%(n)s bids"),
        "sealed_amount": _("sealed"),
        "proxy": _("proxy"),
        "you": _("you"),
        "min_next": _("Minimum next bid: %(amount)s"),
        "total": _("≈ %(total)s for %(quantity)s"),
        "proxy_set": _("Your proxy maximum: %(amount)s"),
        "no_bids": _("No bids yet."),
        "gone": _("This lot is no longer available."),
        "unit_d": _("d"),
        "unit_h": _("h"),
        "unit_m": _("min"),
        "unit_s": _("s"),
        # The engine's own alias sentence (auctions.events.bidder_alias), as a template.
        "bidder": _("Bidder %(n)d").replace("%(n)d", "%(n)s"),
    }


def live_context(request: HttpRequest, lot: Lot) -> dict[str, Any]:
    """What templates/auctions/_live_panel.html needs, as `live` in the page's context:
    `{% include "auctions/_live_panel.html" %}` after `"live": live_context(request, lot)`."""
    user = request.user
    blocker = _bid_blocker(user, lot)
    bidder = None
    own_top = None
    if user.is_authenticated and user.company_id:
        bidder = Bidder.objects.filter(lot=lot, company_id=user.company_id).first()
        if bidder is not None and lot.format == Lot.Format.SEALED:
            own_top = Bid.objects.filter(lot=lot, bidder_id=user.company_id).aggregate(top=Max("amount"))["top"]
    winner_alias = ""
    if lot.status == Lot.Status.AWARDED and lot.winner_id:
        number = Bidder.objects.filter(lot=lot, company_id=lot.winner_id).values_list("number", flat=True).first()
        winner_alias = bidder_alias(number) or ""
    sealed_open = lot.format == Lot.Format.SEALED and lot.status not in CLOSED
    is_closed = lot.status in CLOSED
    my_alias = bidder_alias(bidder.number) if bidder else ""
    history = selectors.bid_history(lot=lot, viewer=user, limit=50)
    for row in history:
        row["mine"] = bool(my_alias) and row["bidder"] == my_alias
    # The standing at page load, as live.js computes it (the latest bid of an English lot leads),
    # so the page says it before the socket answers, and without JavaScript.
    standing = ""
    if bidder is not None and not is_closed:
        if lot.format == Lot.Format.SEALED:
            standing = "sealed" if own_top is not None else ""
        elif history:
            standing = "leading" if history[0]["mine"] else "outbid"
    you_won = bool(lot.winner_id and user.is_authenticated and lot.winner_id == user.company_id)
    reason = selectors.close_reason(lot)
    ladder = [[None if below is None else _money(below), _money(step)] for below, step in services.INCREMENT_LADDER]
    login = _url("accounts:login")
    return {
        "lot": lot,
        "can_bid": blocker is None,
        "blocked_code": blocker[0] if blocker else "",
        "blocked_detail": blocker[1] if blocker else "",
        "login_url": f"{login}?{urlencode({'next': request.get_full_path()})}" if login else "",
        "ws_path": f"/ws/lots/{lot.pk}/",
        "api_url": _url("api:lot-detail", lot.pk),
        "bid_url": _url("auctions:bid", lot.pk),
        "my_bids_url": _url("auctions:my_bids"),
        "is_closed": is_closed,
        "sealed_open": sealed_open,
        "has_reserve": lot.reserve_price is not None,
        "reserve_met": lot.reserve_met,
        "increment": _money(lot.bid_increment),
        "ladder": ladder,
        "min_next_bid": services.minimum_next_bid(lot),
        "unit_label": unit_label(lot),
        "my_number": bidder.number if bidder else None,
        "my_alias": my_alias,
        "my_max": bidder.max_amount if bidder else None,
        # Outbid with a proxy maximum set: the rival's bid went past it.
        "my_max_exceeded": bool(bidder and bidder.max_amount is not None and standing == "outbid"),
        "own_top": own_top,
        "standing": standing,
        "winner_alias": winner_alias,
        "you_won": you_won,
        "you_lost": bool(bidder and lot.status == Lot.Status.AWARDED and not you_won),
        "close_reason": reason,
        "close_reason_text": close_reasons(lot).get(reason, ""),
        # What the winner does next (shown when the page learns it won, live or on load).
        "statement_url": _url("payments:statement", lot.pk) if (you_won or blocker is None) else "",
        "book_url": _url("logistics:book", lot.pk) if (you_won or blocker is None) and not lot.seller_delivers else "",
        "history": history,
        "js_messages": _js_messages(lot),
        "messages_id": f"live-messages-{lot.pk}",
        "ladder_id": f"live-ladder-{lot.pk}",
    }


def lot_live(request: HttpRequest, lot_id: int) -> HttpResponse:
    """The bidding room: the live panel full width, for phones at the auction's end."""
    lot = lot_for(request.user, lot_id)
    if lot is None or (not lot.is_published and lot.status != Lot.Status.WITHDRAWN):
        raise Http404(_("No such lot."))
    return render(request, "auctions/lot_live.html", {"lot": lot, "live": live_context(request, lot)})


@require_POST
@login_required
def bid_submit(request: HttpRequest, lot_id: int) -> HttpResponse:
    """The panel's form without JavaScript: the same service as the WebSocket and the API."""
    lot = lot_for(request.user, lot_id)
    if lot is None:
        raise Http404(_("No such lot."))
    target = request.POST.get("next", "")
    hosts = {request.get_host()}
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=hosts, require_https=request.is_secure()):
        target = _url("auctions:lot_live", lot.pk)
    try:
        result = services.bid_place(
            actor=request.user,
            lot_id=lot.pk,
            amount=request.POST.get("amount", ""),
            max_amount=request.POST.get("max_amount") or None,
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect(target)
    amount = f"¥{result.bid.amount:,.2f}"
    if lot.format == Lot.Format.SEALED:
        messages.success(request, _("Your sealed bid of %(amount)s is in.") % {"amount": amount})
    elif result.leading:
        messages.success(request, _("Your bid of %(amount)s is in: you are the highest bidder.") % {"amount": amount})
    else:
        messages.warning(
            request,
            _("Your bid of %(amount)s is in, but another bidder's proxy maximum is higher.") % {"amount": amount},
        )
    return redirect(target)


# --- My bids ------------------------------------------------------------------------------


def my_bids_for(company_id: int) -> QuerySet[Lot]:
    """Every lot the company bid on, in one query: its highest bid, its number of bids, its
    proxy ceiling and alias, and who stands highest (the engine's own order: amount, then the
    earlier commitment). Open lots first (ending soonest), then closed ones, latest first."""
    leader = Bid.objects.filter(lot=OuterRef("pk")).order_by("-amount", "ranked_at", "seq").values("bidder_id")[:1]
    bidder = Bidder.objects.filter(lot=OuterRef("pk"), company_id=company_id)
    # filter() before annotate() on the same relation: the aggregates see this company's bids only.
    return (
        Lot.objects.filter(bids__bidder_id=company_id)
        .select_related("category", "category__parent")
        .annotate(
            my_top=Max("bids__amount"),
            my_count=Count("bids"),
            my_last_at=Max("bids__created_at"),
            leader_id=Subquery(leader),
            my_number=Subquery(bidder.values("number")[:1]),
            my_max=Subquery(bidder.values("max_amount")[:1]),
            open_first=Case(When(status__in=OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()),
        )
        .order_by("open_first", F("closed_at").desc(nulls_last=True), "ends_at", "-pk")
    )


def bid_outcome(lot: Lot, company_id: int) -> str:
    """leading / outbid while open (English), sealed while a sealed lot is open (nobody may
    know who leads), won / lost once closed (unsold and withdrawn lots are lost too)."""
    if lot.status == Lot.Status.AWARDED:
        return "won" if lot.winner_id == company_id else "lost"
    if lot.status in CLOSED:
        return "lost"
    if lot.format == Lot.Format.SEALED:
        return "sealed"
    return "leading" if lot.leader_id == company_id else "outbid"


@login_required
def my_bids(request: HttpRequest) -> HttpResponse:
    user = request.user
    company = user.company if user.company_id else None
    if company is None or company.role != Company.Role.PROCESSOR:
        if user.is_cooperative_admin:
            detail = _("Cooperative admins do not bid. Each lot page lists its bids with the companies behind them.")
        elif company is None:
            detail = _("Only processor companies bid on lots. Register a processor company to take part.")
        else:
            detail = _(
                "Only processor companies bid on lots. Your company is a %(role)s: its lots are under My lots."
            ) % {"role": company.get_role_display()}
        return render(request, "auctions/my_bids.html", {"company": company, "not_bidder": detail})
    page = Paginator(my_bids_for(company.pk), MY_BIDS_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for lot in rows:
        lot.outcome = bid_outcome(lot, company.pk)
        lot.my_alias = bidder_alias(lot.my_number)
        lot.is_open = lot.status in OPEN
        lot.unit_label = unit_label(lot)
    counts = {key: sum(1 for lot in rows if lot.outcome == key) for key in ("leading", "outbid", "won", "lost")}
    return render(
        request,
        "auctions/my_bids.html",
        {
            "company": company,
            "page_obj": page,
            "open_rows": [lot for lot in rows if lot.is_open],
            "closed_rows": [lot for lot in rows if not lot.is_open],
            "counts": counts,
            "verified": company.status == Company.Status.VERIFIED,
            "watch": any(lot.is_open for lot in rows),
            "watch_messages": _my_bids_messages(),
        },
    )


def _my_bids_messages() -> dict[str, Any]:
    """What static/js/my_bids.js writes into the rows as bids and closes come in."""
    return {
        "max_watched": MY_BIDS_WATCHED,
        "outcomes": {
            "leading": _("Leading"),
            "outbid": _("Outbid"),
            "won": _("Won"),
            "lost": _("Lost"),
            "sealed": _("Sealed bid in"),
        },
        "bid_again": _("Bid again"),
        "watch": _("Watch"),
        "ended": _("Ended"),
        "price_current": _("Current price"),
        "price_final": _("Final price"),
        "price_highest": _("Highest bid"),
        "proxy_exceeded": _("proxy maximum %(amount)s exceeded"),
        "proxy_up_to": _("proxy up to %(amount)s"),
        "status_labels": status_labels(),
        # "%(n)s" forms for one and for many (the page counts again as frames come in).
        "leading_one": ngettext("leading on %(counter)s lot", "leading on %(counter)s lots", 1),
        "leading_many": ngettext("leading on %(counter)s lot", "leading on %(counter)s lots", 2),
        "outbid_one": ngettext("outbid on %(counter)s lot", "outbid on %(counter)s lots", 1),
        "outbid_many": ngettext("outbid on %(counter)s lot", "outbid on %(counter)s lots", 2),
    }
