"""The root URLs plus /auctions/, until recycling/urls.py mounts auctions.urls itself (then
this adds nothing). Tests use it through ROOT_URLCONF; the browser test's Daphne too."""

from django.urls import include, path

from recycling.urls import handler400, handler403, handler404, handler500
from recycling.urls import urlpatterns as root_patterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

_mounted = any(getattr(pattern, "namespace", None) == "auctions" for pattern in root_patterns)
urlpatterns = [*root_patterns] + ([] if _mounted else [path("auctions/", include("auctions.urls"))])
