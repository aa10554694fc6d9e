"""Account pages (/accounts/) and the cooperative's pages (/coop/). Thin: read a form, call a
service, show its DomainError on the form, redirect with a message."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.api import document_response
from accounts.forms import (
    AuditFilterForm,
    CompanyFilterForm,
    CompanyForm,
    DocumentForm,
    ProfileForm,
    RegisterForm,
    ReviewForm,
    category_label,
)
from accounts.models import Company, CompanyDocument
from core import selectors as core_selectors
from core.errors import DomainError
from core.forms import add_domain_error
from core.models import AuditEntry

COMPANIES_PER_PAGE = 20
AUDIT_PER_PAGE = 50


# --- Registration, profile, dashboard -------------------------------------------------


def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:dashboard")
    form = RegisterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_register(
                username=data["username"],
                password=data["password1"],
                email=data["email"],
                company_name=data["company_name"],
                credit_code=data["credit_code"],
                role=data["role"],
                district=data["district"],
                address=data["address"],
                contact_phone=data["contact_phone"],
            )
        except DomainError as exc:
            add_domain_error(form, exc, RegisterForm.FIELD_FOR_CODE)
        else:
            login(request, user)
            messages.success(
                request,
                _(
                    "Welcome! Your company is registered and awaits review by the cooperative. "
                    "Upload your licence documents below to speed it up."
                ),
            )
            return redirect("accounts:company")
    return render(request, "accounts/register.html", {"form": form})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if request.user.is_cooperative_admin:
        return redirect("coop:companies")
    if request.user.company_id:
        return redirect("accounts:company")
    return redirect("accounts:profile")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


# --- The user's own company -----------------------------------------------------------


def _own_company(request: HttpRequest) -> Company | None:
    if not request.user.company_id:
        return None
    return Company.objects.get(pk=request.user.company_id)


def _no_company(request: HttpRequest) -> HttpResponse:
    if request.user.is_cooperative_admin:
        return redirect("coop:companies")
    messages.info(request, _("Your account does not belong to a company."))
    return redirect("accounts:profile")


def _with_category_labels(documents) -> list[CompanyDocument]:
    documents = list(documents)
    for document in documents:
        document.category_labels = [category_label(category) for category in document.categories.all()]
    return documents


def _company_page(
    request: HttpRequest,
    company: Company,
    *,
    company_form: CompanyForm | None = None,
    document_form: DocumentForm | None = None,
) -> HttpResponse:
    context = {
        "company": company,
        "documents": _with_category_labels(selectors.company_documents(company=company)),
        "company_form": company_form or CompanyForm(company=company),
        "document_form": document_form or DocumentForm(company=company),
        "editable": company.status != Company.Status.SUSPENDED,
    }
    return render(request, "accounts/company.html", context)


@login_required
def company(request: HttpRequest) -> HttpResponse:
    own = _own_company(request)
    if own is None:
        return _no_company(request)
    if request.method != "POST":
        return _company_page(request, own)
    form = CompanyForm(request.POST, company=own)
    if form.is_valid():
        try:
            updated = services.company_update(actor=request.user, company_id=own.pk, **form.changes())
        except DomainError as exc:
            add_domain_error(form, exc, CompanyForm.FIELD_FOR_CODE)
        else:
            if own.status == Company.Status.REJECTED and updated.status == Company.Status.PENDING:
                messages.success(request, _("Your changes were saved and the company is submitted for review again."))
            else:
                messages.success(request, _("Your company details were saved."))
            return redirect("accounts:company")
    return _company_page(request, own, company_form=form)


@login_required
@require_POST
def document_upload(request: HttpRequest) -> HttpResponse:
    own = _own_company(request)
    if own is None:
        return _no_company(request)
    form = DocumentForm(request.POST, request.FILES, company=own)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.document_upload(
                actor=request.user,
                company_id=own.pk,
                kind=data["kind"],
                upload=data["file"],
                licence_no=data["licence_no"],
                expires_on=data["expires_on"],
                category_ids=form.category_ids(),
            )
        except DomainError as exc:
            add_domain_error(form, exc, DocumentForm.FIELD_FOR_CODE)
        else:
            messages.success(request, _("The document was uploaded."))
            return redirect(reverse("accounts:company") + "#documents")
    messages.error(request, _("The document was not uploaded; see the form below."))
    return _company_page(request, own, document_form=form)


@login_required
def document(request: HttpRequest, document_id: int) -> HttpResponse:
    """A licence document, only for its own company and cooperative admins (others: 404)."""
    found = selectors.document_visible_to(user=request.user, document_id=document_id)
    if found is None:
        raise Http404(_("No such document."))
    try:
        return document_response(found)
    except FileNotFoundError:
        raise Http404(_("No such document.")) from None


# --- Cooperative pages ----------------------------------------------------------------


def cooperative_admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous → the login page; logged in but not a cooperative admin → 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_cooperative_admin:
            raise PermissionDenied(_("Only cooperative admins may open this page."))
        return view(request, *args, **kwargs)

    return login_required(wrapper)


@cooperative_admin_required
def companies(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    # The queue opens on what needs doing: pending companies, oldest first.
    params.setdefault("status", Company.Status.PENDING)
    form = CompanyFilterForm(params)
    form.is_valid()
    filters = getattr(form, "cleaned_data", {})
    queryset = selectors.company_list(
        status=filters.get("status") or None, role=filters.get("role") or None, q=filters.get("q") or None
    )
    if not queryset.ordered:
        # The selector's annotation drops Meta.ordering; pages need a stable order.
        queryset = queryset.order_by("-created_at", "-id")
    page = Paginator(queryset, COMPANIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "coop/companies.html", {"form": form, "page_obj": page})


# action -> (reason required, success message)
REVIEW_ACTIONS: dict[str, tuple[bool, Any]] = {
    "approve": (False, gettext_lazy("%(company)s is verified.")),
    "reject": (True, gettext_lazy("%(company)s was rejected; the company has been told why.")),
    "suspend": (True, gettext_lazy("%(company)s is suspended.")),
    "reinstate": (True, gettext_lazy("%(company)s is reinstated.")),
}

ACTIONS_FOR_STATUS = {
    Company.Status.PENDING: ("approve", "reject", "suspend"),
    Company.Status.VERIFIED: ("suspend",),
    Company.Status.SUSPENDED: ("reinstate",),
    Company.Status.REJECTED: (),
}


def _review_form(action: str, data: Any = None) -> ReviewForm:
    return ReviewForm(data, reason_required=REVIEW_ACTIONS[action][0], auto_id=f"id_{action}_%s")


def _company_detail_page(
    request: HttpRequest, company: Company, bound: tuple[str, ReviewForm] | None = None
) -> HttpResponse:
    actions = ACTIONS_FOR_STATUS.get(company.status, ())
    forms = {action: _review_form(action) for action in actions}
    if bound is not None:
        forms[bound[0]] = bound[1]
    context = {
        "company": company,
        "members": company.members.order_by("username"),
        "documents": _with_category_labels(selectors.company_documents(company=company)),
        "history": core_selectors.audit_list(target_type="company", target_id=str(company.pk))[:100],
        "review_forms": [(action, forms[action]) for action in actions],
    }
    return render(request, "coop/company_detail.html", context)


@cooperative_admin_required
def company_detail(request: HttpRequest, company_id: int) -> HttpResponse:
    return _company_detail_page(request, get_object_or_404(Company, pk=company_id))


@cooperative_admin_required
@require_POST
def company_action(request: HttpRequest, company_id: int, action: str) -> HttpResponse:
    company = get_object_or_404(Company, pk=company_id)
    form = _review_form(action, request.POST)
    error: DomainError | None = None
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if action in ("approve", "reject"):
                services.company_review(actor=request.user, company_id=company.pk, decision=action, reason=reason)
            elif action == "suspend":
                services.company_suspend(actor=request.user, company_id=company.pk, reason=reason)
            else:
                services.company_reinstate(actor=request.user, company_id=company.pk, reason=reason)
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, REVIEW_ACTIONS[action][1] % {"company": company.name})
            return redirect("coop:company_detail", company_id=company.pk)
    company.refresh_from_db()
    if action not in ACTIONS_FOR_STATUS.get(company.status, ()):
        # The company moved on meanwhile (another admin decided): show where it stands now.
        if error is not None:
            messages.error(request, error.detail)
        return redirect("coop:company_detail", company_id=company.pk)
    if error is not None:
        add_domain_error(form, error, ReviewForm.FIELD_FOR_CODE)
    return _company_detail_page(request, company, bound=(action, form))


def _audit_changes(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    before, after = entry.before or {}, entry.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [("", before, after)]
    return [(key, before.get(key, ""), after.get(key, "")) for key in sorted(set(before) | set(after))]


def _action_choices(actions: list[str]) -> list[str]:
    prefixes = {action.split(".", 1)[0] + "." for action in actions if "." in action}
    return sorted(prefixes | set(actions))


@cooperative_admin_required
def audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    form.is_valid()
    page = Paginator(core_selectors.audit_list(**form.filters()), AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for entry in page.object_list:
        entry.changes = _audit_changes(entry)
    context = {
        "form": form,
        "page_obj": page,
        "action_choices": _action_choices(core_selectors.audit_actions()),
        "target_types": AuditEntry.objects.order_by("target_type").values_list("target_type", flat=True).distinct(),
    }
    return render(request, "coop/audit.html", context)
