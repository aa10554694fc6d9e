"""Moments as the API and the live frames write them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in the platform's time zone (Asia/Shanghai, +08:00), as the pages show it and
    as DRF's serializers write it: one offset everywhere, whatever the database handed back."""
    return None if value is None else timezone.localtime(value).isoformat()
