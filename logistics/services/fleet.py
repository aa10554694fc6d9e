"""A carrier's fleet: vehicle_create, vehicle_update."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Company
from accounts.services import require_verified_company
from core.districts import District
from core.errors import conflict, invalid, not_found
from core.services import audit_record
from logistics.models import Vehicle
from logistics.services.common import CENT, PLATE_RE, _decimal


def _clean_vehicle(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if values.get("type") not in Vehicle.Type.values:
        raise invalid("validation_error", _("Unknown vehicle type."), type=_("Unknown vehicle type."))
    out["type"] = values["type"]
    capacity = _decimal(values.get("capacity_t"), field="capacity_t", places=CENT)
    if capacity <= 0 or capacity > 100:
        raise invalid(
            "invalid_capacity", _("The capacity must lie between 0 and 100 t."), capacity_t=_("Out of range.")
        )
    out["capacity_t"] = capacity
    plate = re.sub(r"[\s·.\-]", "", str(values.get("plate") or "")).upper()
    if not PLATE_RE.match(plate):
        raise invalid("invalid_plate", _("Not a mainland plate number (黑A12345)."), plate=_("Invalid plate."))
    out["plate"] = plate
    out["hazardous_permit_until"] = values.get("hazardous_permit_until") or None
    districts = values.get("districts")
    if isinstance(districts, str):
        districts = [districts]
    districts = list(dict.fromkeys(districts or []))
    if not districts or any(d not in District.values for d in districts):
        raise invalid(
            "validation_error", _("Choose the districts this vehicle serves."), districts=_("Unknown district.")
        )
    out["districts"] = districts
    rate = _decimal(values.get("rate_per_km"), field="rate_per_km", places=CENT)
    if rate <= 0:
        raise invalid("invalid_price", _("The rate per km must be greater than zero."), rate_per_km=_("Must be > 0."))
    out["rate_per_km"] = rate
    minimum = _decimal(values.get("min_charge", "0") or "0", field="min_charge", places=CENT)
    if minimum < 0:
        raise invalid("invalid_price", _("The minimum charge cannot be negative."), min_charge=_("Must be ≥ 0."))
    out["min_charge"] = minimum
    return out


@transaction.atomic
def vehicle_create(*, actor: Any, **values: Any) -> Vehicle:
    """A verified carrier adds a vehicle to its fleet (plates are unique on the platform)."""
    company = require_verified_company(actor, role=Company.Role.CARRIER)
    fields = _clean_vehicle(values)
    if Vehicle.objects.filter(plate=fields["plate"]).exists():
        raise conflict("duplicate_plate", _("A vehicle with this plate is already registered."))
    vehicle = Vehicle.objects.create(carrier=company, **fields)
    audit_record(
        actor=actor,
        action="vehicle.create",
        target_type="vehicle",
        target_id=vehicle.pk,
        target_label=vehicle.plate,
        after={"type": vehicle.type, "capacity_t": f"{vehicle.capacity_t}", "districts": vehicle.districts},
    )
    return vehicle


@transaction.atomic
def vehicle_update(*, actor: Any, vehicle_id: int, **changes: Any) -> Vehicle:
    """The carrier changes a vehicle's terms; bookings already made keep their price."""
    company = require_verified_company(actor, role=Company.Role.CARRIER)
    vehicle = Vehicle.objects.select_for_update().filter(pk=vehicle_id, carrier=company).first()
    if vehicle is None:
        raise not_found(_("No such vehicle."))
    names = ("type", "capacity_t", "plate", "hazardous_permit_until", "districts", "rate_per_km", "min_charge")
    values = {name: getattr(vehicle, name) for name in names}
    values.update({k: v for k, v in changes.items() if k in names})
    fields = _clean_vehicle(values)
    if Vehicle.objects.filter(plate=fields["plate"]).exclude(pk=vehicle.pk).exists():
        raise conflict("duplicate_plate", _("A vehicle with this plate is already registered."))
    if "active" in changes:
        fields["active"] = bool(changes["active"])
    for key, value in fields.items():
        setattr(vehicle, key, value)
    vehicle.save()
    return vehicle
