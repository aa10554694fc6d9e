"""Every write of the logistics domain: fleets, quotes, bookings and their steps, weighing.
Import from here: `from logistics.services import booking_create`. The modules: common
(constants and small helpers), fleet (vehicles), quotes (eligible vehicles, load plans and
prices), bookings (a booking's status steps), weighing (tickets, deductions, the agreed weight
handed to payments).

Locks come in one order: the lot (recycling.services.lock_lot), then the booking, then
vehicles. Each booking status change and each weighing step appends a `logistics` event to
the lot's hash chain (auctions.events.append_event) under the lot's lock, so the chain of
custody lives in the same tamper-evident ledger as the auction. Event payloads never carry
personal data: no names, phones, addresses, positions or plates.
"""

from logistics.services.bookings import (
    STEP_TITLES,
    booking_accept,
    booking_advance,
    booking_cancel,
    booking_create,
    booking_decline,
    parties_of,
)
from logistics.services.common import (
    CENT,
    EVENT_TYPE,
    GRAM,
    PHOTO_MAX_SIDE,
    PLATE_RE,
    RATIO,
    Status,
    booking_url,
    photo_file,
    pickup_point,
    quantity_in_tonnes,
)
from logistics.services.fleet import vehicle_create, vehicle_update
from logistics.services.quotes import (
    LoadPlan,
    eligible_vehicles,
    per_trip_price,
    plan_loads,
    quotes_request,
    rounds_in_slot,
)
from logistics.services.weighing import (
    deduction_add,
    record_settlement_weight,
    weighing_accept,
    weighing_decide,
    weighing_dispute,
    weighing_record,
    weighings_finalize_due,
)

__all__ = [
    "CENT",
    "EVENT_TYPE",
    "GRAM",
    "PHOTO_MAX_SIDE",
    "PLATE_RE",
    "RATIO",
    "STEP_TITLES",
    "LoadPlan",
    "Status",
    "booking_accept",
    "booking_advance",
    "booking_cancel",
    "booking_create",
    "booking_decline",
    "booking_url",
    "deduction_add",
    "eligible_vehicles",
    "parties_of",
    "per_trip_price",
    "photo_file",
    "pickup_point",
    "plan_loads",
    "quantity_in_tonnes",
    "quotes_request",
    "record_settlement_weight",
    "rounds_in_slot",
    "vehicle_create",
    "vehicle_update",
    "weighing_accept",
    "weighing_decide",
    "weighing_dispute",
    "weighing_record",
    "weighings_finalize_due",
]
