"""Every write of the lots domain: listing, editing, photos, moderation, wanted requests.
Import from here: `from recycling.services import lot_create`. The modules: locks (lock_lot,
lock_lot_with, lock_lot_at: the lot's lock, on every bid's path), common (small helpers),
lots (terms, deposit, listing and moderation), photos, wanted (求购 requests and their
matches).

Status moves of a lot happen here (listing and moderation) and in auctions.services (opening,
bids, closing); each locks the lot row first through `lock_lot`.
"""

from recycling.services.locks import lock_lot, lock_lot_at, lock_lot_with
from recycling.services.lots import (
    CENT,
    DEFAULT_DEPOSIT_RATE,
    HEILONGJIANG,
    MAX_DEPOSIT,
    MAX_LOT_VALUE,
    PICKUP_DAYS_AFTER_PAYMENT,
    TERM_FIELDS,
    WITHDRAWABLE,
    check_deposit_limit,
    contact_warning,
    default_deposit,
    default_pickup_window,
    lot_create,
    lot_review,
    lot_submit,
    lot_update,
    lot_withdraw,
)
from recycling.services.photos import MAX_PHOTOS, PHOTO_MAX_SIDE, THUMB_SIDE, lot_photo_add, lot_photo_delete
from recycling.services.wanted import matching_wanted, wanted_close, wanted_create, wanted_match_lot

__all__ = [
    "CENT",
    "DEFAULT_DEPOSIT_RATE",
    "HEILONGJIANG",
    "MAX_DEPOSIT",
    "MAX_LOT_VALUE",
    "MAX_PHOTOS",
    "PHOTO_MAX_SIDE",
    "PICKUP_DAYS_AFTER_PAYMENT",
    "TERM_FIELDS",
    "THUMB_SIDE",
    "WITHDRAWABLE",
    "check_deposit_limit",
    "contact_warning",
    "default_deposit",
    "default_pickup_window",
    "lock_lot",
    "lock_lot_at",
    "lock_lot_with",
    "lot_create",
    "lot_photo_add",
    "lot_photo_delete",
    "lot_review",
    "lot_submit",
    "lot_update",
    "lot_withdraw",
    "matching_wanted",
    "wanted_close",
    "wanted_create",
    "wanted_match_lot",
]
