"""Template helpers of the information board: money in CNY, times in Asia/Shanghai, category
names in the page's language, durations, and the market chart drawn as inline SVG."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext

from recycling.models import Category, Unit, format_quantity

register = template.Library()

# The cooperative trades in Harbin: every time on the board is Beijing time, whatever the
# server's or the visitor's clock says.
SHANGHAI = ZoneInfo("Asia/Shanghai")
DASH = "—"


def money(value: Decimal | None) -> str:
    """Decimal("2300") → "¥2,300.00"; None → "—"."""
    if value in (None, ""):
        return DASH
    return f"¥{Decimal(value):,.2f}"


def unit_label(unit: Any) -> str:
    """A lot, a wanted request or a unit code → the unit's (translated) label."""
    code = getattr(unit, "unit", unit)
    try:
        return str(Unit(code).label)
    except ValueError:
        return str(code or "")


def category_label(category: Category | None) -> str:
    """The catalogue's own Chinese names, or the English ones on English pages."""
    if category is None:
        return ""
    english = (get_language() or "").startswith("en")

    def name(item: Category) -> str:
        return (item.name_en or item.name) if english else item.name

    return f"{name(category.parent)} · {name(category)}" if category.parent_id else name(category)


def class_label(category: Category) -> str:
    """The top-level class a category belongs to (废电池 for 废铅酸蓄电池)."""
    return category_label(category.parent if category.parent_id else category)


@register.filter
def cny(value: Decimal | None) -> str:
    return money(value)


@register.filter
def per_unit(value: Decimal | None, unit: Any) -> str:
    """{{ lot.start_price|per_unit:lot }} → "¥2,300.00/t"."""
    if value in (None, ""):
        return DASH
    return f"{money(value)}/{unit_label(unit)}"


@register.filter
def qty(value: Decimal | None) -> str:
    return DASH if value is None else format_quantity(Decimal(value))


@register.filter
def category_name(category: Category | None) -> str:
    return category_label(category)


@register.filter
def category_class(category: Category) -> str:
    return class_label(category)


def local(value: dt.datetime | dt.date | None) -> dt.datetime | dt.date | None:
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return value.astimezone(SHANGHAI)
    return value


@register.filter
def when(value: dt.datetime | dt.date | None, fmt: str = "%Y-%m-%d %H:%M") -> str | SafeString:
    """A <time> element in Asia/Shanghai: "2026-11-30 18:00"."""
    if value in (None, ""):
        return DASH
    value = local(value)
    if not isinstance(value, dt.datetime):
        fmt = "%Y-%m-%d"
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), value.strftime(fmt))


@register.filter
def duration(seconds: int | None) -> str:
    """300 → "5 minutes", 3600 → "1 hour", 45 → "45 seconds"."""
    seconds = int(seconds or 0)
    if seconds and seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    if seconds and seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}


# --- The market chart ---------------------------------------------------------------------


@dataclass
class ChartPoint:
    x: float
    y: float
    week: dt.date
    price: Decimal


@dataclass
class Chart:
    """Geometry of a line chart of weekly medians, ready for templates/recycling/_chart.html."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    points: list[ChartPoint]
    y_max_label: str
    y_min_label: str
    x_first_label: str
    x_last_label: str

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom

    @property
    def label_y(self) -> int:
        return self.height - 6


def price_chart(
    weekly: list[tuple[dt.date, Decimal]],
    *,
    width: int = 320,
    height: int = 150,
    left: int = 64,
    right: int = 12,
    top: int = 12,
    bottom: int = 24,
) -> Chart | None:
    """Map a weekly series (Monday, median) to SVG coordinates: time runs left to right over
    the weeks actually covered, price bottom to top between the lowest and highest median.
    A flat series is drawn mid-height; an empty one is no chart."""
    if not weekly:
        return None
    series = sorted(weekly)
    first, last = series[0][0], series[-1][0]
    low = min(price for _, price in series)
    high = max(price for _, price in series)
    plot_w, plot_h = width - left - right, height - top - bottom
    span_days = (last - first).days
    points = []
    for week, price in series:
        x = left + (plot_w * (week - first).days / span_days if span_days else plot_w / 2)
        y = top + (plot_h * float((high - price) / (high - low)) if high != low else plot_h / 2)
        points.append(ChartPoint(x=round(x, 1), y=round(y, 1), week=week, price=price))
    return Chart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        points=points,
        y_max_label=money(high).removesuffix(".00"),
        y_min_label=money(low).removesuffix(".00"),
        x_first_label=first.strftime("%m-%d"),
        x_last_label=last.strftime("%m-%d"),
    )


@register.simple_tag
def district_name(code: str) -> str:
    from core.districts import District

    try:
        return str(District(code).label)
    except ValueError:
        return code


@register.filter
def field(form: Any, name: str) -> Any:
    """{{ form|field:"title" }}: a bound field by a name held in a variable."""
    return form[name]
