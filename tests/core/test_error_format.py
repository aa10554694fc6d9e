"""Every API error has the shape of shared/API.md: {"code", "detail", "fields"?}; lists are paginated."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import Company, User
from core import selectors as core_selectors
from core.models import AuditEntry, Notification
from core.views import server_error
from tests import factories

pytestmark = pytest.mark.django_db

REGISTER_URL = "/api/v1/accounts/register/"
TOKEN_URL = "/api/v1/auth/token/"


def _register_body(**company) -> dict:
    return {
        "username": "newcomer",
        "password": factories.PASSWORD,
        "email": "newcomer@example.com",
        "company": {
            "name": "新公司",
            "credit_code": "914403001922038216",
            "role": "processor",
            "district": "nangang",
            "address": "南岗区1号",
            "contact_phone": "13800138000",
        }
        | company,
    }


def _assert_error(response, status: int, code: str, *, fields: bool = False) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert set(body) == ({"code", "detail", "fields"} if fields else {"code", "detail"})
    return body


def _nothing_registered() -> None:
    assert (User.objects.count(), Company.objects.count(), AuditEntry.objects.count()) == (0, 0, 0)


# --- 400 -------------------------------------------------------------------------------------------


def test_validation_error_fields_are_flattened(api):
    response = api.post(
        REGISTER_URL, _register_body(role="trader", district="nowhere"), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    body = _assert_error(response, 400, "validation_error", fields=True)
    assert set(body["fields"]) == {"company.role", "company.district"}
    assert all(isinstance(messages, list) and messages for messages in body["fields"].values())
    assert body["detail"] == f"Invalid input: {body['fields']['company.role'][0]}"
    _nothing_registered()


def test_a_specific_field_code_becomes_the_code(api):
    response = api.post(REGISTER_URL, _register_body(credit_code="914403001922038217"), format="json")

    body = _assert_error(response, 400, "invalid_credit_code", fields=True)
    assert list(body["fields"]) == ["company.credit_code"]
    assert body["detail"] == body["fields"]["company.credit_code"][0]
    _nothing_registered()


@pytest.mark.parametrize("payload", ["[]", '"text"', "42", "null"])
def test_a_body_that_is_not_an_object(api, payload):
    response = api.post(REGISTER_URL, payload, content_type="application/json")

    body = _assert_error(response, 400, "validation_error", fields=True)
    assert list(body["fields"]) == ["non_field_errors"]
    _nothing_registered()


@pytest.mark.parametrize("url", [REGISTER_URL, TOKEN_URL])
@pytest.mark.parametrize("payload", ['{"username": ', "{'single': 'quotes'}", "\xff\xfe"])
def test_malformed_json(api, url, payload):
    response = api.post(url, payload, content_type="application/json")

    _assert_error(response, 400, "parse_error")
    _nothing_registered()


# --- 401 / 403 -------------------------------------------------------------------------------------


def test_not_authenticated_names_the_scheme(api):
    response = api.get("/api/v1/audit/")

    _assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_a_bad_token_is_authentication_failed(api):
    response = api.get("/api/v1/me/", HTTP_AUTHORIZATION="Token nope")

    _assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


def test_forbidden(client_for, collector):
    response = client_for(collector).get("/api/v1/audit/")

    _assert_error(response, 403, "not_cooperative_admin")


def test_a_session_post_without_csrf_is_forbidden(coop_admin):
    company = factories.make_company(status=Company.Status.PENDING)
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="coop_admin", password=factories.PASSWORD)

    response = client.post(f"/api/v1/companies/{company.pk}/review/", {"decision": "approve"}, format="json")

    body = _assert_error(response, 403, "permission_denied")
    assert "CSRF" in body["detail"]
    company.refresh_from_db()
    assert company.status == Company.Status.PENDING
    assert AuditEntry.objects.count() == 0


# --- 404 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here/", "/api/v1/nothing-here", "/api/v1/companies/abc/", "/api/v1/"]
)
def test_unknown_api_path_is_a_json_404(api, settings, debug, path):
    settings.DEBUG = debug

    for method in ("get", "post", "delete"):
        response = getattr(api, method)(path)

        _assert_error(response, 404, "not_found")


def test_unknown_path_under_api_without_debug_is_a_json_404(api, settings):
    settings.DEBUG = False

    response = api.get("/api/v2/lots/")

    _assert_error(response, 404, "not_found")


def test_a_missing_object_is_404(client_for, coop_admin):
    response = client_for(coop_admin).get("/api/v1/companies/999999/")

    _assert_error(response, 404, "not_found")


# --- 405 / 406 / 415 -------------------------------------------------------------------------------


def test_method_not_allowed(client_for, collector):
    response = client_for(collector).delete("/api/v1/me/")

    _assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_method_not_allowed_on_a_public_endpoint(api):
    response = api.post("/api/v1/categories/", {}, format="json")

    _assert_error(response, 405, "method_not_allowed")


def test_not_acceptable(client_for, collector):
    response = client_for(collector).get("/api/v1/me/", HTTP_ACCEPT="application/xml")

    assert response.status_code == 406
    assert json.loads(response.content)["code"] == "not_acceptable"


def test_unsupported_media_type(api):
    response = api.post(REGISTER_URL, "username=x", content_type="text/plain")

    _assert_error(response, 415, "unsupported_media_type")
    _nothing_registered()


# --- 429 -------------------------------------------------------------------------------------------


def test_rate_limited(api, collector, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "auth": "2/min"})
    credentials = {"username": "collector", "password": "wrong"}

    first = api.post(TOKEN_URL, credentials, format="json")
    second = api.post(TOKEN_URL, credentials, format="json")
    third = api.post(TOKEN_URL, {"username": "collector", "password": factories.PASSWORD}, format="json")

    assert (first.status_code, second.status_code) == (400, 400)
    _assert_error(third, 429, "rate_limited")
    assert 0 < int(third["Retry-After"]) <= 60
    assert not Token.objects.exists()


def test_registration_is_rate_limited(api, monkeypatch):
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "register": "1/hour"}
    )
    api.post(REGISTER_URL, {}, format="json")

    response = api.post(REGISTER_URL, _register_body(), format="json")

    _assert_error(response, 429, "rate_limited")
    _nothing_registered()


# --- 500 -------------------------------------------------------------------------------------------


def test_server_error_under_api_is_json():
    request = RequestFactory().get("/api/v1/companies/")

    response = server_error(request)

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"code": "server_error", "detail": json.loads(response.content)["detail"]}


def test_server_error_elsewhere_is_html():
    response = server_error(RequestFactory().get("/accounts/company/"))

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_a_bug_in_an_api_view_answers_json_500(coop_admin, monkeypatch, settings):
    settings.DEBUG = False

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(core_selectors, "audit_list", broken)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user=coop_admin)

    response = client.get("/api/v1/audit/")

    _assert_error(response, 500, "server_error")
    assert "boom" not in response.content.decode()


# --- slashes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/auth/token", "/api/v1/auth/token/"])
def test_post_with_or_without_the_trailing_slash(api, collector, url):
    response = api.post(url, {"username": "collector", "password": factories.PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json()["token"]


def test_register_without_the_trailing_slash(api):
    response = api.post(REGISTER_URL.rstrip("/"), _register_body(), format="json")

    assert response.status_code == 201


# --- pagination ------------------------------------------------------------------------------------


@pytest.fixture
def inbox(collector):
    Notification.objects.bulk_create([Notification(user=collector, kind="test", title=f"通知 {n}") for n in range(25)])
    factories.make_user()  # someone else's notifications never show
    Notification.objects.create(user=factories.make_user(), kind="test", title="not yours")
    return collector


def test_pagination_shape(client_for, inbox):
    response = client_for(inbox).get("/api/v1/notifications/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 25
    assert body["previous"] is None
    assert body["next"].endswith("/api/v1/notifications/?page=2")
    assert len(body["results"]) == 20
    assert set(body["results"][0]) == {"id", "kind", "title", "body", "url", "created_at", "read_at", "is_read"}


def test_page_two(client_for, inbox):
    body = client_for(inbox).get("/api/v1/notifications/?page=2").json()

    assert (body["count"], len(body["results"]), body["next"]) == (25, 5, None)
    assert body["previous"].endswith("/api/v1/notifications/")


@pytest.mark.parametrize(("page_size", "expected"), [("5", 5), ("1", 1), ("1000", 25), ("0", 20), ("x", 20)])
def test_page_size(client_for, inbox, page_size, expected):
    body = client_for(inbox).get(f"/api/v1/notifications/?page_size={page_size}").json()

    assert body["count"] == 25
    assert len(body["results"]) == expected


def test_page_size_is_capped_at_100(client_for, collector):
    Notification.objects.bulk_create([Notification(user=collector, kind="t", title=str(n)) for n in range(120)])

    body = client_for(collector).get("/api/v1/notifications/?page_size=1000").json()

    assert (body["count"], len(body["results"])) == (120, 100)


def test_last_page(client_for, inbox):
    body = client_for(inbox).get("/api/v1/notifications/?page=last&page_size=10").json()

    assert len(body["results"]) == 5


@pytest.mark.parametrize("page", ["99", "abc", "0", "-1"])
def test_a_page_out_of_range_is_404(client_for, inbox, page):
    response = client_for(inbox).get(f"/api/v1/notifications/?page={page}")

    _assert_error(response, 404, "not_found")
