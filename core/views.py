"""Home page, notification pages, and error pages (JSON under /api/, HTML elsewhere)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_POST

from core import selectors, services

NOTIFICATIONS_PER_PAGE = 20


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(user=request.user), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "core/notifications.html", {"page_obj": page})


def _next_url(request: HttpRequest) -> str:
    """Where to go after marking read: a local `next` (the notification's own link), else the list."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("core:notifications")


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    services.notification_mark_read(user=request.user, notification_id=notification_id)
    return redirect(_next_url(request))


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    services.notification_mark_read(user=request.user)
    return redirect(_next_url(request))


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _error(request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"code": code, "detail": detail}, status=status)
    return render(request, "error.html", {"status": status, "detail": detail}, status=status)


def api_not_found(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"code": "not_found", "detail": _("Not found.")}, status=404)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "bad_request", _("Bad request."))


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "permission_denied", _("You do not have permission to do this."))


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"code": "server_error", "detail": _("Server error; it has been logged.")}, status=500)
    # No context processors here: the database may be what failed.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
