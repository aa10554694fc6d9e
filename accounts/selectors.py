"""Reads of accounts that need more than one line."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.models import Company, CompanyDocument
from accounts.validators import normalize_credit_code


def company_list(*, status: str | None = None, role: str | None = None, q: str | None = None) -> QuerySet[Company]:
    qs = Company.objects.annotate(document_count=Count("documents"))
    if status:
        qs = qs.filter(status=status)
    if role:
        qs = qs.filter(role=role)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code=normalize_credit_code(q)))
    # The review queue oldest first (first come, first served); any other list newest first.
    # Always a total order: pages of an unordered list may repeat or skip companies.
    return qs.order_by("created_at", "id") if status == Company.Status.PENDING else qs.order_by("-created_at", "-id")


def document_visible_to(*, user: Any, document_id: int) -> CompanyDocument | None:
    """A licence document, only for its own company and cooperative admins."""
    if not user.is_authenticated:
        return None
    qs = CompanyDocument.objects.select_related("company")
    if not user.is_cooperative_admin:
        if user.company_id is None:
            return None
        qs = qs.filter(company_id=user.company_id)
    return qs.filter(pk=document_id).first()


def company_documents(*, company: Company) -> QuerySet[CompanyDocument]:
    return company.documents.prefetch_related("categories").order_by("kind", "-uploaded_at")
