"""Template filters of the logistics pages."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def percent(value: Decimal | None, places: int = 1) -> str:
    """0.0523 → "5.2" (a share shown as a percentage)."""
    if value is None:
        return ""
    return f"{Decimal(value) * 100:.{int(places)}f}"
