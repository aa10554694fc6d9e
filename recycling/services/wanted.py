"""Wanted requests (求购): wanted_create, wanted_close, and the processors told when a
published lot matches one (matching_wanted, wanted_match_lot)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company
from accounts.services import require_verified_company
from core.districts import District
from core.errors import conflict, invalid, not_found
from core.services import audit_record, notify
from recycling.models import Lot, WantedMatch, WantedRequest
from recycling.services.common import _resolve_category


@transaction.atomic
def wanted_create(
    *,
    actor: Any,
    category: Any,
    valid_until: dt.date,
    unit: str | None = None,
    quantity_min: Decimal | None = None,
    quantity_max: Decimal | None = None,
    max_unit_price: Decimal | None = None,
    districts: list[str] | None = None,
    note: str = "",
) -> WantedRequest:
    company = require_verified_company(actor, role=Company.Role.PROCESSOR)
    category = _resolve_category(category)
    districts = list(dict.fromkeys(districts or []))
    bad = [d for d in districts if d not in District.values]
    if bad:
        raise invalid("validation_error", _("Unknown district."), districts=_("Unknown: %(d)s") % {"d": ", ".join(bad)})
    if quantity_min is not None and quantity_min < 0 or quantity_max is not None and quantity_max <= 0:
        raise invalid("invalid_quantity", _("Quantities must be positive."), quantity_min=_("Must be > 0."))
    if quantity_min is not None and quantity_max is not None and quantity_max < quantity_min:
        raise invalid("invalid_quantity", _("The maximum quantity is below the minimum."), quantity_max=_("Too low."))
    if max_unit_price is not None and max_unit_price <= 0:
        raise invalid("invalid_price", _("The maximum price must be positive."), max_unit_price=_("Must be > 0."))
    if valid_until < timezone.localdate():
        raise invalid("validation_error", _("The request would already have expired."), valid_until=_("In the past."))
    wanted = WantedRequest.objects.create(
        company=company,
        created_by=actor,
        category=category,
        unit=unit or category.unit,
        quantity_min=quantity_min,
        quantity_max=quantity_max,
        max_unit_price=max_unit_price,
        districts=districts,
        valid_until=valid_until,
        note=note.strip(),
    )
    audit_record(
        actor=actor,
        action="wanted.create",
        target_type="wanted",
        target_id=wanted.pk,
        target_label=str(category),
        after={"status": wanted.status},
    )
    return wanted


@transaction.atomic
def wanted_close(*, actor: Any, wanted_id: int) -> WantedRequest:
    wanted = WantedRequest.objects.select_for_update().filter(pk=wanted_id).first()
    if wanted is None or (wanted.company_id != getattr(actor, "company_id", None) and not actor.is_cooperative_admin):
        raise not_found(_("No such wanted request."))
    if wanted.status != WantedRequest.Status.OPEN:
        raise conflict("bad_transition", _("This wanted request is already closed."))
    wanted.status = WantedRequest.Status.CLOSED
    wanted.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="wanted.close",
        target_type="wanted",
        target_id=wanted.pk,
        target_label=str(wanted.category),
        before={"status": "open"},
        after={"status": "closed"},
    )
    return wanted


def matching_wanted(*, lot: Lot) -> list[WantedRequest]:
    """Open, unexpired requests whose category (or its parent class), quantity range and
    districts admit `lot`, from companies that may still buy; oldest first."""
    categories = [lot.category_id] + ([lot.category.parent_id] if lot.category.parent_id else [])
    quantity = lot.quantity
    candidates = (
        WantedRequest.objects.filter(
            status=WantedRequest.Status.OPEN,
            valid_until__gte=timezone.localdate(),
            category_id__in=categories,
            unit=lot.unit,
            company__status=Company.Status.VERIFIED,
        )
        .filter(Q(quantity_min__isnull=True) | Q(quantity_min__lte=quantity))
        .filter(Q(quantity_max__isnull=True) | Q(quantity_max__gte=quantity))
        .exclude(company_id=lot.seller_id)
        .select_related("company")
        .order_by("created_at", "id")
    )
    return [w for w in candidates if not w.districts or lot.district in w.districts]


def wanted_match_lot(*, lot: Lot) -> list[WantedMatch]:
    """Notify each processor with a matching request about `lot`, once per (lot, company).

    Runs inside the publishing transaction; the unique (lot, company) row makes a second call
    a no-op."""
    matches: list[WantedMatch] = []
    already = set(WantedMatch.objects.filter(lot=lot).values_list("company_id", flat=True))
    for wanted in matching_wanted(lot=lot):
        if wanted.company_id in already:
            continue
        already.add(wanted.company_id)
        match = WantedMatch.objects.create(lot=lot, company_id=wanted.company_id, wanted=wanted)
        matches.append(match)
        notify(
            users=wanted.company.members.all(),
            kind="wanted_match",
            title=_("A new lot matches your wanted request: %(title)s") % {"title": lot.title},
            body=_("%(code)s · %(quantity)s %(unit)s · %(district)s · ends %(ends)s")
            % {
                "code": lot.code,
                "quantity": lot.quantity_display,
                "unit": lot.get_unit_display(),
                "district": lot.get_district_display(),
                "ends": timezone.localtime(lot.ends_at).strftime("%Y-%m-%d %H:%M"),
            },
            url=reverse("recycling:lot_detail", args=[lot.pk]),
        )
    return matches
