"""Small helpers shared by the lots, photos and wanted services: a category from its code, and
the caller's own lot, locked."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from core.errors import invalid, not_found
from recycling.models import Category, Lot
from recycling.services.locks import lock_lot


def _resolve_category(value: Any) -> Category:
    category = value if isinstance(value, Category) else Category.objects.filter(code=value, active=True).first()
    if category is None or not category.active:
        raise invalid("validation_error", _("Unknown category."), category=_("Unknown category."))
    return category


def _own_lot(actor: Any, lot_id: int) -> Lot:
    lot = lock_lot(lot_id)
    if getattr(actor, "company_id", None) != lot.seller_id:
        raise not_found(_("No such lot."))
    return lot
