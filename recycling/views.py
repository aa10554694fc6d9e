"""Pages of the information board: lots, wanted requests, market prices."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from recycling import selectors
from recycling.models import LotPhoto


def lot_detail(request: HttpRequest, lot_id: int) -> HttpResponse:
    lot = selectors.lot_for(request.user, lot_id)
    if lot is None:
        raise Http404
    return render(
        request,
        "recycling/lot_detail.html",
        {
            "lot": lot,
            "show_contact": selectors.can_see_contact(request.user, lot),
            "show_reserve": selectors.can_see_reserve(request.user, lot),
        },
    )


def photo(request: HttpRequest, photo_id: int, size: str) -> FileResponse:
    """A lot photo, for whoever may see its lot (drafts' photos stay private)."""
    item = LotPhoto.objects.filter(pk=photo_id).only("lot_id", "image", "thumbnail").first()
    if item is None or not selectors.lots_visible_to(request.user).filter(pk=item.lot_id).exists():
        raise Http404
    field = item.thumbnail if size == "thumb" else item.image
    response = FileResponse(field.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400" if item.lot.is_published else "private, no-store"
    return response
