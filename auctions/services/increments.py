"""The increment ladder and the bid grid: the step a lot's bids go up in, the lowest bid the
engine accepts now, and the grid an English bid (or a proxy's answer) lands on."""

from __future__ import annotations

from decimal import Decimal

from recycling.models import Lot

INCREMENT_LADDER: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("1000"), Decimal("10")),
    (Decimal("5000"), Decimal("50")),
    (Decimal("20000"), Decimal("100")),
    (Decimal("50000"), Decimal("200")),
    (None, Decimal("500")),
)


def increment_for(lot: Lot, price: Decimal | None = None) -> Decimal:
    if lot.bid_increment:
        return lot.bid_increment
    price = price if price is not None else (lot.current_price or lot.start_price)
    for below, step in INCREMENT_LADDER:
        if below is None or price < below:
            return step
    return INCREMENT_LADDER[-1][1]


def minimum_next_bid(lot: Lot) -> Decimal:
    """The lowest bid the engine accepts now: one increment over the price, rounded up to the
    grid (a proxy capped at an off-grid ceiling leaves the price itself off the grid)."""
    if lot.format == Lot.Format.SEALED or lot.current_price is None:
        return lot.start_price
    step = increment_for(lot)
    minimum = lot.current_price + step
    offset = (minimum - lot.start_price) % step
    return minimum if offset == 0 else minimum - offset + step


def _grid_up(lot: Lot, price: Decimal) -> Decimal:
    """The smallest price on the lot's bid grid at or above `price`."""
    step = increment_for(lot, price)
    offset = (price - lot.start_price) % step
    return price if offset == 0 else price - offset + step
