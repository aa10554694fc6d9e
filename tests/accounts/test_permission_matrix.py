"""Who may call what: every role against every accounts/core endpoint, with the exact answer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Company, CompanyDocument, User
from core.models import AuditEntry
from tests import factories
from tests.accounts.uploads import pdf_upload

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "collector", "processor", "carrier", "pending", "suspended", "coop_admin"]

ANON = (401, "not_authenticated")
NOT_ADMIN = (403, "not_cooperative_admin")
HIDDEN = (404, "not_found")
NOT_MEMBER = (403, "permission_denied")
SUSPENDED = (409, "company_suspended")


def _row(anonymous, member, pending=None, suspended=None, coop_admin=None):
    """Expected answers in ROLES order; the three verified members answer alike."""
    pending = member if pending is None else pending
    suspended = member if suspended is None else suspended
    coop_admin = member if coop_admin is None else coop_admin
    return dict(zip(ROLES, [anonymous, member, member, member, pending, suspended, coop_admin], strict=True))


# (name, method, path, body kind): `{own}` is the caller's company (for users without one, the
# other company), `{other}` a company of someone else.
ENDPOINTS = {
    "me": ("get", "/api/v1/me/", None, _row(ANON, 200)),
    "company queue": ("get", "/api/v1/companies/?status=pending", None, _row(ANON, NOT_ADMIN, coop_admin=200)),
    "company own": ("get", "/api/v1/companies/{own}/", None, _row(ANON, 200)),
    "company other": ("get", "/api/v1/companies/{other}/", None, _row(ANON, HIDDEN, coop_admin=200)),
    "edit own": (
        "patch",
        "/api/v1/companies/{own}/",
        "edit",
        _row(ANON, 200, suspended=SUSPENDED, coop_admin=NOT_MEMBER),
    ),
    "edit other": ("patch", "/api/v1/companies/{other}/", "edit", _row(ANON, HIDDEN, coop_admin=NOT_MEMBER)),
    "review": ("post", "/api/v1/companies/{to_review}/review/", "approve", _row(ANON, NOT_ADMIN, coop_admin=200)),
    "suspend": ("post", "/api/v1/companies/{to_suspend}/suspend/", "reason", _row(ANON, NOT_ADMIN, coop_admin=200)),
    "reinstate": (
        "post",
        "/api/v1/companies/{to_reinstate}/reinstate/",
        "reason",
        _row(ANON, NOT_ADMIN, coop_admin=200),
    ),
    "documents own": ("get", "/api/v1/companies/{own}/documents/", None, _row(ANON, 200)),
    "documents other": ("get", "/api/v1/companies/{other}/documents/", None, _row(ANON, HIDDEN, coop_admin=200)),
    "upload own": ("post", "/api/v1/companies/{own}/documents/", "upload", _row(ANON, 201, coop_admin=NOT_MEMBER)),
    "upload other": (
        "post",
        "/api/v1/companies/{other}/documents/",
        "upload",
        _row(ANON, HIDDEN, coop_admin=NOT_MEMBER),
    ),
    "file own": ("get", "/api/v1/documents/{own_doc}/file/", None, _row(ANON, 200)),
    "file other": ("get", "/api/v1/documents/{other_doc}/file/", None, _row(ANON, HIDDEN, coop_admin=200)),
    "audit": ("get", "/api/v1/audit/", None, _row(ANON, NOT_ADMIN, coop_admin=200)),
    "notifications": ("get", "/api/v1/notifications/", None, _row(ANON, 200)),
    "categories": ("get", "/api/v1/categories/", None, _row(200, 200)),
}

CASES = [pytest.param(role, name, id=f"{role}-{name.replace(' ', '_')}") for name in ENDPOINTS for role in ROLES]


@dataclass
class World:
    users: dict[str, User | None]
    other: Company
    other_doc: CompanyDocument
    own_docs: dict[str, CompanyDocument]
    to_review: Company
    to_suspend: Company
    to_reinstate: Company


def _document(user: User) -> CompanyDocument:
    return services.document_upload(
        actor=user, company_id=user.company_id, kind=CompanyDocument.Kind.BUSINESS_LICENCE, upload=pdf_upload()
    )


@pytest.fixture
def world(coop_admin, collector, processor, carrier, pending_user) -> World:
    suspended = factories.make_member(Company.Role.COLLECTOR, Company.Status.SUSPENDED, username="suspended")
    stranger = factories.make_member(Company.Role.PROCESSOR, username="stranger")
    users = {
        "anonymous": None,
        "collector": collector,
        "processor": processor,
        "carrier": carrier,
        "pending": pending_user,
        "suspended": suspended,
        "coop_admin": coop_admin,
    }
    own_docs = {role: _document(user) for role, user in users.items() if user is not None and user.company_id}
    return World(
        users=users,
        other=stranger.company,
        other_doc=_document(stranger),
        own_docs=own_docs,
        to_review=factories.make_company(status=Company.Status.PENDING),
        to_suspend=factories.make_company(status=Company.Status.VERIFIED),
        to_reinstate=factories.make_company(status=Company.Status.SUSPENDED),
    )


def _body(kind: str | None):
    if kind == "edit":
        return {"address": "道外区新地址1号"}, "json"
    if kind == "approve":
        return {"decision": "approve"}, "json"
    if kind == "reason":
        return {"reason": "核查完毕"}, "json"
    if kind == "upload":
        return {"kind": "business_licence", "file": pdf_upload()}, "multipart"
    return None, None


def _snapshot():
    return (
        sorted(Company.objects.values_list("pk", "status", "address", "status_reason")),
        AuditEntry.objects.count(),
        CompanyDocument.objects.count(),
        User.objects.count(),
    )


@pytest.mark.parametrize(("role", "endpoint"), CASES)
def test_permission_matrix(world, role, endpoint):
    method, template, body_kind, answers = ENDPOINTS[endpoint]
    expected = answers[role]
    user = world.users[role]
    own_company_id = user.company_id if user is not None and user.company_id else world.other.pk
    own_doc = world.own_docs.get(role, world.other_doc)
    path = template.format(
        own=own_company_id,
        other=world.other.pk,
        own_doc=own_doc.pk,
        other_doc=world.other_doc.pk,
        to_review=world.to_review.pk,
        to_suspend=world.to_suspend.pk,
        to_reinstate=world.to_reinstate.pk,
    )
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    body, fmt = _body(body_kind)
    before = _snapshot()

    response = getattr(client, method)(path, body, format=fmt) if body is not None else getattr(client, method)(path)

    status, code = expected if isinstance(expected, tuple) else (expected, None)
    assert response.status_code == status, getattr(response, "data", None)
    if code is not None:
        assert response.json()["code"] == code
        assert _snapshot() == before
    if status == 401:
        assert response["WWW-Authenticate"] == "Token"
