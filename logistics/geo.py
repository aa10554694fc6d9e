"""Road distances for quotes and route plans.

Distance on the road = great-circle (haversine) distance × a road factor. Harbin's roads are a
grid cut by the Songhua River and the railway yards, so a trip is longer than the straight
line; LOGISTICS_ROAD_FACTOR (default 1.3, docs/logistics.md) stands for that detour. It is a
setting so that a routing service can replace the estimate later without touching callers.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
KM = Decimal("0.1")

# Approximate centres (WGS-84) of Harbin's districts, counties and county-level cities: the
# pickup point of a lot that has no coordinates, and a carrier's depot for route plans.
DISTRICT_CENTRES: dict[str, tuple[float, float]] = {
    "daoli": (45.7617, 126.6169),
    "nangang": (45.7597, 126.6686),
    "daowai": (45.7847, 126.6492),
    "pingfang": (45.5979, 126.6372),
    "songbei": (45.8083, 126.5619),
    "xiangfang": (45.7136, 126.6797),
    "hulan": (45.8893, 126.5876),
    "acheng": (45.5417, 126.9584),
    "shuangcheng": (45.3835, 126.3124),
    "shangzhi": (45.2097, 127.9685),
    "wuchang": (44.9190, 127.1498),
    "yilan": (46.3218, 129.5670),
    "fangzheng": (45.8513, 128.8296),
    "binxian": (45.7554, 127.4660),
    "bayan": (46.0815, 127.4030),
    "mulan": (45.9505, 128.0437),
    "tonghe": (45.9777, 128.7470),
    "yanshou": (45.4513, 128.3317),
}


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points in km."""
    lat1, lng1 = map(math.radians, (float(a[0]), float(a[1])))
    lat2, lng2 = map(math.radians, (float(b[0]), float(b[1])))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def road_factor() -> float:
    return float(settings.LOGISTICS_ROAD_FACTOR)


def road_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return haversine_km(a, b) * road_factor()


def road_distance(a: tuple[float, float], b: tuple[float, float]) -> Decimal:
    """Road km between two points, to one decimal (what a quote shows and prices)."""
    return Decimal(str(road_km(a, b))).quantize(KM, rounding=ROUND_HALF_UP)


def district_centre(district: str) -> tuple[float, float]:
    return DISTRICT_CENTRES.get(district, DISTRICT_CENTRES["nangang"])
