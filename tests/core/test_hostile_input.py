"""No input ever yields a 5xx (shared/API.md): NUL characters, huge ids and numbers, odd types.

PostgreSQL refuses NUL in text, so these matter most there; they run on both databases."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Company, CompanyDocument, User
from core.models import AuditEntry
from tests import factories
from tests.accounts.payloads import REGISTER_URL, register_payload

pytestmark = pytest.mark.django_db

BIG = "9" * 25


def _client(user=None) -> APIClient:
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.force_authenticate(user=user)
    return client


@pytest.mark.parametrize(
    "body",
    [
        {"username": "coll\x00ector", "password": factories.PASSWORD},
        {"username": "collector", "password": "Correct\x00-Horse-42"},
    ],
)
def test_token_with_nul_characters(collector, body):
    response = _client().post("/api/v1/auth/token/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"username": "a\x00b"}, "username"),
        ({"company__name": "a\x00b"}, "company.name"),
        ({"company__credit_code": "9135\x000100M000100Y43"}, "company.credit_code"),
        ({"company__address": "a\x00b"}, "company.address"),
        ({"company__contact_phone": "138\x0000138000"}, "company.contact_phone"),
    ],
)
def test_register_with_nul_characters(override, field):
    response = _client().post(REGISTER_URL, register_payload(**override), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["fields"]
    assert (User.objects.count(), Company.objects.count(), AuditEntry.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/audit/?actor=a%00b",
        "/api/v1/audit/?action=company%00",
        "/api/v1/audit/?target_type=%00&target_id=%00",
        "/api/v1/companies/?q=a%00b",
        "/api/v1/companies/?q=%00",
        "/api/v1/companies/?role=%00",
        "/api/v1/companies/?status=%00",
    ],
)
def test_query_parameters_with_nul_characters(coop_admin, query):
    response = _client(coop_admin).get(query)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/api/v1/companies/{BIG}/"),
        ("patch", f"/api/v1/companies/{BIG}/"),
        ("post", f"/api/v1/companies/{BIG}/review/"),
        ("post", f"/api/v1/companies/{BIG}/suspend/"),
        ("post", f"/api/v1/companies/{BIG}/reinstate/"),
        ("get", f"/api/v1/companies/{BIG}/documents/"),
        ("get", f"/api/v1/documents/{BIG}/file/"),
        ("post", f"/api/v1/notifications/{BIG}/read/"),
    ],
)
def test_huge_ids_are_404(coop_admin, collector, method, path):
    for user in (coop_admin, collector):
        response = getattr(_client(user), method)(path, {"decision": "approve", "reason": "x"}, format="json")

        assert response.status_code in (403, 404), response.content
        assert response.json()["code"] in ("not_found", "not_cooperative_admin")


@pytest.mark.parametrize("query", [f"?page={BIG}", f"?page_size={BIG}", "?page_size=-5", "?unread=%00", "?page=%00"])
def test_odd_pagination_parameters(collector, query):
    response = _client(collector).get("/api/v1/notifications/" + query)

    assert response.status_code in (200, 404)


@pytest.mark.parametrize("query", ["?since=0001-01-01&until=9999-12-31", "?since=9999-12-31", f"?target_id={BIG}"])
def test_extreme_audit_filters(coop_admin, query):
    response = _client(coop_admin).get("/api/v1/audit/" + query)

    assert response.status_code == 200


def test_a_nul_in_a_reason_is_refused(coop_admin):
    company = factories.make_company(status=Company.Status.PENDING)

    response = _client(coop_admin).post(
        f"/api/v1/companies/{company.pk}/review/", {"decision": "reject", "reason": "a\x00b"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    company.refresh_from_db()
    assert (company.status, company.status_reason) == (Company.Status.PENDING, "")
    assert AuditEntry.objects.count() == 0


def test_a_nul_in_an_uploaded_file_name_is_harmless(collector):
    from tests.accounts.uploads import pdf_bytes, upload

    response = _client(collector).post(
        f"/api/v1/companies/{collector.company_id}/documents/",
        {"kind": "business_licence", "file": upload("a\x00b.pdf", pdf_bytes())},
        format="multipart",
    )

    assert response.status_code in (201, 400)
    for document in CompanyDocument.objects.all():
        assert "\x00" not in document.file.name


DEEP = "[" * 1000 + "]" * 1000  # 2 KB, past Python's recursion limit when decoded


@pytest.mark.parametrize(
    "who, path",
    [
        (None, "/api/v1/auth/token/"),
        (None, REGISTER_URL),
        ("collector", "/api/v1/lots/"),
        ("collector", "/api/v1/lots/1/photos/"),  # a view with its own parser list
    ],
)
def test_json_nested_too_deeply_is_a_parse_error(collector, who, path):
    client = _client(collector if who else None)

    response = client.post(path, DEEP, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_the_schema_answers_its_errors_in_the_api_error_shape():
    response = _client().post("/api/v1/schema/")

    assert (response.status_code, response["Content-Type"]) == (405, "application/json")
    assert response.json()["code"] == "method_not_allowed"
    assert _client().get("/api/v1/schema/").status_code == 200  # the schema itself, as before


def test_a_username_is_read_as_the_log_in_page_reads_it():
    """NFKC, as Django's log-in form: a full-width name is its ASCII twin, which is then taken."""
    first = _client().post(REGISTER_URL, register_payload(username="ｆｏｏ"), format="json")
    twin = _client().post(REGISTER_URL, register_payload(username="foo"), format="json")
    token = _client().post("/api/v1/auth/token/", {"username": "ｆｏｏ", "password": factories.PASSWORD}, format="json")

    assert first.status_code == 201
    assert User.objects.get().username == "foo"
    assert (twin.status_code, twin.json()["code"]) == (409, "duplicate_username")
    assert token.status_code == 200
