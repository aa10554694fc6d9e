"""The auction engine: bid_place, lot_open, lot_close. Each runs in one transaction with the
lot's row locked first (recycling.services.lock_lot); broadcasts and e-mails follow the commit.
Import from here: `from auctions.services import bid_place`. The modules: increments (the
increment ladder and the bid grid), bidding (bid_place and everything on its path, the hot
one), closing (lot_open, lot_close and the clock's work list, due_lot_ids).

Rules (shared/API.md, Bids):
- English: a bid is ≥ current price + increment (≥ start price for the first) and lies on the
  grid start price + k × increment. Proxy bidding works like eBay's: the visible price is one
  increment over the second-highest maximum, capped at the highest maximum; of two equal
  maxima the earlier stands.
- Sealed: each bidder may raise its own bid until the end; amounts stay hidden until close;
  the highest bid wins at its own price (earlier of equal).
- Soft close (English): a bid in the last `soft_close_seconds` moves the end to now +
  soft_close_seconds, never past the scheduled end + max_extension_seconds.
- Close: highest bid ≥ reserve and at least `min_bidders` distinct bidders → awarded.

Default increment ladder (when a lot sets no `bid_increment`), by the current unit price:
below ¥1,000 → ¥10; below ¥5,000 → ¥50; below ¥20,000 → ¥100; below ¥50,000 → ¥200;
from ¥50,000 → ¥500.
"""

from auctions.services.bidding import CENT, MAX_AMOUNT, MAX_LOT_VALUE, BidResult, Standing, bid_place
from auctions.services.closing import UNSOLD_REASONS, due_lot_ids, lot_close, lot_open
from auctions.services.increments import INCREMENT_LADDER, increment_for, minimum_next_bid

__all__ = [
    "CENT",
    "INCREMENT_LADDER",
    "MAX_AMOUNT",
    "MAX_LOT_VALUE",
    "UNSOLD_REASONS",
    "BidResult",
    "Standing",
    "bid_place",
    "due_lot_ids",
    "increment_for",
    "lot_close",
    "lot_open",
    "minimum_next_bid",
]
