"""Home page, notification pages, and error pages (JSON under /api/, HTML elsewhere)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


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
