"""Pages of the information board: lots, the seller's dashboard, the cooperative's review queue,
wanted requests (求购) and market prices. Thin: read a form, call a service, show its
DomainError on the form or as a message, redirect with a message."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import Company
from accounts.services import require_cooperative_admin, require_verified_company
from auctions.views import live_context
from core.errors import DomainError
from core.forms import add_domain_error
from recycling import selectors, services
from recycling.forms import (
    OPEN_STATUSES,
    LotFilterForm,
    LotForm,
    PhotoUploadForm,
    ReviewForm,
    WantedFilterForm,
    WantedForm,
    WithdrawForm,
)
from recycling.models import Lot, LotPhoto
from recycling.templatetags.board import price_chart

LOTS_PER_PAGE = 20
WANTED_PER_PAGE = 20
PHOTO_SIZES = ("full", "thumb")
# The seller's dashboard lists its lots in the order they need attention.
DASHBOARD_ORDER = (
    Lot.Status.DRAFT,
    Lot.Status.REJECTED,
    Lot.Status.PENDING_REVIEW,
    Lot.Status.SCHEDULED,
    Lot.Status.LIVE,
    Lot.Status.AWARDED,
    Lot.Status.UNSOLD,
    Lot.Status.WITHDRAWN,
)


# --- Who may open a page --------------------------------------------------------------


def _denied(request: HttpRequest, detail: str) -> HttpResponse:
    return render(request, "recycling/denied.html", {"detail": detail}, status=403)


def _requires(check: Callable[[Any], Any]) -> Callable:
    """Log in first; then `check(user)` (a service guard) must pass, else a 403 page that says
    why (not verified yet, wrong role, not an admin). What it returns goes to the view as
    `company`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                company = check(request.user)
            except DomainError as exc:
                return _denied(request, exc.detail)
            return view(request, *args, company=company, **kwargs)

        return login_required(wrapper)

    return decorator


seller_required = _requires(lambda user: require_verified_company(user, role=Company.Role.COLLECTOR))
processor_required = _requires(lambda user: require_verified_company(user, role=Company.Role.PROCESSOR))
admin_required = _requires(require_cooperative_admin)


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _own_lot(company: Company, lot_id: int) -> Lot:
    lot = selectors.lots_of_seller(company_id=company.pk).filter(pk=lot_id).first()
    if lot is None:
        raise Http404(_("No such lot."))
    return lot


# --- The public board -----------------------------------------------------------------


def home_board(request: HttpRequest) -> HttpResponse:
    return render(request, "recycling/board.html", selectors.board())


def lot_list(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    if "status" not in params:
        # A first visit (or a search from the board) wants lots that can still be bid on,
        # not last month's awards; the form's "Any status" sends status= explicitly.
        params["status"] = OPEN_STATUSES
    form = LotFilterForm(initial=params.dict())
    bad_fields: list[str] = []
    status = 200
    try:
        results = selectors.lot_search(user=request.user, params=params)
    except DomainError as exc:
        messages.error(request, exc.detail)
        bad_fields = list(exc.fields or {})
        results = Lot.objects.none()
        status = 400
    page = Paginator(results, LOTS_PER_PAGE).get_page(request.GET.get("page"))
    defaults = {"status": OPEN_STATUSES, "ordering": "ends_at", "q": "", "page": ""}
    filtered = any(value and value != defaults.get(key, "") for key, value in params.items())
    return render(
        request,
        "recycling/lot_list.html",
        {"form": form, "page_obj": page, "bad_fields": bad_fields, "filtered": filtered},
        status=status,
    )


def lot_detail(request: HttpRequest, lot_id: int) -> HttpResponse:
    lot = selectors.lot_for(request.user, lot_id)
    if lot is None:
        raise Http404(_("No such lot."))
    user = request.user
    is_admin = user.is_authenticated and user.is_cooperative_admin
    is_seller = user.is_authenticated and user.company_id == lot.seller_id
    return render(
        request,
        "recycling/lot_detail.html",
        {
            "lot": lot,
            "photos": list(lot.photos.all()),
            "show_contact": selectors.can_see_contact(user, lot),
            "show_reserve": selectors.can_see_reserve(user, lot),
            "is_admin": is_admin,
            "is_seller": is_seller,
            "editable": is_seller and lot.status in Lot.EDITABLE,
            "reviewable": is_admin and lot.status == Lot.Status.PENDING_REVIEW,
            "withdrawable": is_admin and lot.status in services.WITHDRAWABLE,
            "live": live_context(request, lot) if lot.is_published else None,
            # Who books the pickup: the winner, or the seller when the terms say it delivers.
            "can_book": lot.status == Lot.Status.AWARDED
            and user.is_authenticated
            and user.company_id is not None
            and user.company_id == (lot.seller_id if lot.seller_delivers else lot.winner_id),
        },
    )


def photo(request: HttpRequest, photo_id: int, size: str) -> FileResponse:
    """A lot photo, for whoever may see its lot (drafts' photos stay private)."""
    if size not in PHOTO_SIZES:
        raise Http404
    item = LotPhoto.objects.filter(pk=photo_id).only("lot_id", "image", "thumbnail").first()
    status = (
        None
        if item is None
        else selectors.lots_visible_to(request.user).filter(pk=item.lot_id).values_list("status", flat=True).first()
    )
    if status is None:
        raise Http404
    field = item.thumbnail if size == "thumb" else item.image
    try:
        response = FileResponse(field.open("rb"), content_type="image/jpeg")
    except FileNotFoundError:
        raise Http404 from None
    response["Cache-Control"] = "public, max-age=86400" if status in Lot.PUBLISHED else "private, no-store"
    return response


# --- The seller's pages ---------------------------------------------------------------


@seller_required
def lot_create(request: HttpRequest, company: Company) -> HttpResponse:
    form = LotForm(request.POST if request.method == "POST" else None, company=company)
    if request.method == "POST" and form.is_valid():
        try:
            lot = services.lot_create(actor=request.user, **form.terms())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            saved = _("Draft %(code)s saved. Add photos, then submit it for the cooperative's review.")
            messages.success(request, saved % {"code": lot.code})
            return redirect(reverse("recycling:lot_edit", args=[lot.pk]) + "#photos")
    return render(request, "recycling/lot_form.html", {"form": form, "lot": None})


def _edit_page(
    request: HttpRequest,
    company: Company,
    lot_id: int,
    *,
    form: LotForm | None = None,
    photo_form: PhotoUploadForm | None = None,
    photo_errors: list[tuple[str, str]] | None = None,
) -> HttpResponse:
    lot = _own_lot(company, lot_id)
    photos = list(lot.photos.all())
    return render(
        request,
        "recycling/lot_form.html",
        {
            "lot": lot,
            "form": form or LotForm(lot=lot),
            "photos": photos,
            "photo_form": photo_form or PhotoUploadForm(),
            "photo_errors": photo_errors or [],
            "photo_slots": max(services.MAX_PHOTOS - len(photos), 0),
            "max_photos": services.MAX_PHOTOS,
        },
    )


def _not_editable(request: HttpRequest, lot: Lot) -> HttpResponse:
    messages.info(request, _("A %(status)s lot cannot be edited.") % {"status": lot.get_status_display()})
    return redirect("recycling:lot_detail", lot.pk)


@seller_required
def lot_edit(request: HttpRequest, lot_id: int, company: Company) -> HttpResponse:
    lot = _own_lot(company, lot_id)
    if lot.status not in Lot.EDITABLE:
        return _not_editable(request, lot)
    if request.method != "POST":
        return _edit_page(request, company, lot.pk)
    form = LotForm(request.POST, lot=lot)
    if form.is_valid():
        try:
            services.lot_update(actor=request.user, lot_id=lot.pk, **form.terms())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect("recycling:lot_edit", lot.pk)
    return _edit_page(request, company, lot.pk, form=form)


@seller_required
@require_POST
def lot_photos_add(request: HttpRequest, lot_id: int, company: Company) -> HttpResponse:
    lot = _own_lot(company, lot_id)
    if lot.status not in Lot.EDITABLE:
        return _not_editable(request, lot)
    form = PhotoUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _edit_page(request, company, lot.pk, photo_form=form)
    added, errors = 0, []
    # One service call per file: a refused file does not cost the seller the good ones.
    for upload in form.cleaned_data["photos"]:
        try:
            services.lot_photo_add(actor=request.user, lot_id=lot.pk, upload=upload)
        except DomainError as exc:
            errors.append((upload.name, exc.detail))
        else:
            added += 1
    if added:
        messages.success(request, ngettext("%(n)d photo added.", "%(n)d photos added.", added) % {"n": added})
    if errors:
        return _edit_page(request, company, lot.pk, photo_errors=errors)
    return redirect(reverse("recycling:lot_edit", args=[lot.pk]) + "#photos")


@seller_required
@require_POST
def lot_photo_delete(request: HttpRequest, lot_id: int, photo_id: int, company: Company) -> HttpResponse:
    try:
        services.lot_photo_delete(actor=request.user, lot_id=lot_id, photo_id=photo_id)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.detail) from None
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("The photo was removed."))
    return redirect(reverse("recycling:lot_edit", args=[lot_id]) + "#photos")


@seller_required
@require_POST
def lot_submit(request: HttpRequest, lot_id: int, company: Company) -> HttpResponse:
    lot = _own_lot(company, lot_id)
    try:
        services.lot_submit(actor=request.user, lot_id=lot.pk)
    except DomainError as exc:
        messages.error(request, exc.detail)
        if lot.status in Lot.EDITABLE:
            return redirect("recycling:lot_edit", lot.pk)
    else:
        messages.success(
            request,
            _("%(code)s is submitted. The cooperative reviews it before it is published.") % {"code": lot.code},
        )
    return redirect("recycling:lot_detail", lot.pk)


@login_required
def my_lots(request: HttpRequest) -> HttpResponse:
    company = request.user.company if request.user.company_id else None
    if company is None or company.role != Company.Role.COLLECTOR:
        return _denied(request, _("Only collector companies list lots."))
    lots = list(selectors.lots_of_seller(company_id=company.pk))
    groups = []
    for status in DASHBOARD_ORDER:
        members = [lot for lot in lots if lot.status == status]
        if members:
            groups.append({"status": status, "label": Lot.Status(status).label, "lots": members})
    return render(
        request,
        "recycling/my_lots.html",
        {"groups": groups, "company": company, "can_list": company.status == Company.Status.VERIFIED},
    )


# --- The cooperative's pages ----------------------------------------------------------


@admin_required
def review_queue(request: HttpRequest, company: None) -> HttpResponse:
    return render(request, "recycling/review_queue.html", {"lots": list(selectors.review_queue())})


@admin_required
@require_POST
def lot_review(request: HttpRequest, lot_id: int, company: None) -> HttpResponse:
    form = ReviewForm(request.POST)
    target = _next_url(request, reverse("recycling:lot_detail", args=[lot_id]))
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect(target)
    try:
        lot = services.lot_review(actor=request.user, lot_id=lot_id, **form.cleaned_data)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.detail) from None
        messages.error(request, exc.detail)
    else:
        if lot.status == Lot.Status.REJECTED:
            messages.success(request, _("%(code)s was rejected; the seller is told why.") % {"code": lot.code})
        else:
            messages.success(request, _("%(code)s is published.") % {"code": lot.code})
    return redirect(target)


@admin_required
@require_POST
def lot_withdraw(request: HttpRequest, lot_id: int, company: None) -> HttpResponse:
    form = WithdrawForm(request.POST)
    form.is_valid()
    try:
        lot = services.lot_withdraw(actor=request.user, lot_id=lot_id, reason=form.cleaned_data.get("reason", ""))
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.detail) from None
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("%(code)s was withdrawn.") % {"code": lot.code})
    return redirect(_next_url(request, reverse("recycling:lot_detail", args=[lot_id])))


# --- Wanted requests (求购) -----------------------------------------------------------


def wanted_list(request: HttpRequest) -> HttpResponse:
    form = WantedFilterForm(initial=request.GET.dict())
    status = 200
    try:
        wanted = selectors.wanted_open(category=request.GET.get("category") or None)
        page = Paginator(wanted, WANTED_PER_PAGE).get_page(request.GET.get("page"))
    except DomainError as exc:
        messages.error(request, exc.detail)
        page = Paginator([], WANTED_PER_PAGE).get_page(1)
        status = 400
    user = request.user
    company = user.company if user.is_authenticated and user.company_id else None
    return render(
        request,
        "recycling/wanted_list.html",
        {
            "form": form,
            "page_obj": page,
            "my_company_id": company.pk if company else None,
            "is_admin": user.is_authenticated and user.is_cooperative_admin,
            "can_post": bool(
                company and company.role == Company.Role.PROCESSOR and company.status == Company.Status.VERIFIED
            ),
        },
        status=status,
    )


@processor_required
def wanted_create(request: HttpRequest, company: Company) -> HttpResponse:
    form = WantedForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.wanted_create(actor=request.user, **form.values())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your wanted request is posted. We tell you when a matching lot is published."))
            return redirect("recycling:wanted_list")
    return render(request, "recycling/wanted_form.html", {"form": form})


@login_required
@require_POST
def wanted_close(request: HttpRequest, wanted_id: int) -> HttpResponse:
    try:
        services.wanted_close(actor=request.user, wanted_id=wanted_id)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.detail) from None
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("The wanted request is closed."))
    return redirect(_next_url(request, reverse("recycling:wanted_list")))


# --- Market prices --------------------------------------------------------------------


def market(request: HttpRequest) -> HttpResponse:
    rows = [{"item": item, "chart": price_chart(item.weekly)} for item in selectors.market_prices()]
    return render(request, "recycling/market.html", {"rows": rows})
