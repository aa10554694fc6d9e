"""POST /api/v1/accounts/register/, POST /api/v1/auth/token/ and GET /api/v1/me/."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Company, User
from core.models import AuditEntry
from tests import factories
from tests.accounts.payloads import REGISTER_URL, VALID_CODE, register_payload

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/me/"


def _state() -> tuple[int, int, int, int]:
    return User.objects.count(), Company.objects.count(), AuditEntry.objects.count(), Token.objects.count()


def test_register_creates_a_pending_company_and_answers_like_me(api):
    response = api.post(REGISTER_URL, register_payload(), format="json")

    assert response.status_code == 201
    company = Company.objects.get()
    assert response.json() == {
        "username": "hrb_steel",
        "email": "office@hrb-steel.example",
        "company": {"id": company.pk, "name": "哈尔滨钢铁回收有限公司", "role": "collector", "status": "pending"},
        "is_cooperative_admin": False,
    }
    user = User.objects.get()
    assert user.company == company
    assert user.check_password(factories.PASSWORD)
    assert (company.credit_code, company.role, company.status, company.district) == (
        VALID_CODE,
        "collector",
        "pending",
        "daoli",
    )
    assert company.address == "道里区安静街12号"
    assert company.contact_phone == "13800138000"
    assert company.reviewed_at is None


@pytest.mark.parametrize("role", ["collector", "processor", "carrier"])
def test_register_each_role(api, role):
    response = api.post(REGISTER_URL, register_payload(company__role=role), format="json")

    assert response.status_code == 201
    assert response.json()["company"]["role"] == role
    assert Company.objects.get().role == role


def test_register_writes_one_audit_entry(api):
    api.post(REGISTER_URL, register_payload(), format="json")

    entry = AuditEntry.objects.get()
    company = Company.objects.get()
    user = User.objects.get()
    assert entry.action == "company.register"
    assert entry.actor == user
    assert entry.actor_name == "hrb_steel"
    assert (entry.target_type, entry.target_id, entry.target_label) == ("company", str(company.pk), company.name)
    assert entry.before == {}
    assert entry.after == {"status": "pending", "role": "collector", "credit_code": VALID_CODE}


def test_register_then_me_with_the_session_of_a_new_client(api):
    api.post(REGISTER_URL, register_payload(), format="json")
    client = APIClient()
    assert client.login(username="hrb_steel", password=factories.PASSWORD)

    response = client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["company"]["status"] == "pending"


def test_duplicate_credit_code_is_a_conflict(api):
    factories.make_company(credit_code=VALID_CODE)
    before = _state()

    response = api.post(REGISTER_URL, register_payload(), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_company"
    assert "fields" not in response.json()
    assert _state() == before


@pytest.mark.parametrize("username", ["hrb_steel", "HRB_Steel"])
def test_duplicate_username_is_a_conflict(api, username):
    factories.make_user(username="hrb_steel")
    before = _state()

    response = api.post(
        REGISTER_URL, register_payload(username=username, company__credit_code="914403001922038216"), format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_username"
    assert _state() == before


@pytest.mark.parametrize("username", ["system", "System"])
def test_the_audit_logs_system_actor_is_not_a_username(api, username):
    response = api.post(REGISTER_URL, register_payload(username=username), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_username"
    assert _state() == (0, 0, 0, 0)


@pytest.mark.parametrize("password", ["123", "12345678901", "password", "hrb_steel1"])
def test_weak_password_is_refused(api, password):
    before = _state()

    response = api.post(REGISTER_URL, register_payload(password=password), format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_password"
    assert list(body["fields"]) == ["password"]
    assert _state() == before


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("username",), "username"),
        (("password",), "password"),
        (("email",), "email"),
        (("company",), "company"),
        (("company", "name"), "company.name"),
        (("company", "credit_code"), "company.credit_code"),
        (("company", "role"), "company.role"),
        (("company", "district"), "company.district"),
        (("company", "address"), "company.address"),
        (("company", "contact_phone"), "company.contact_phone"),
    ],
)
def test_missing_field_is_named(api, path, field):
    body = register_payload()
    holder = body
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    before = _state()

    response = api.post(REGISTER_URL, body, format="json")

    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "validation_error"
    assert data["detail"]
    assert list(data["fields"]) == [field]
    assert _state() == before


def test_several_missing_fields_are_all_named(api):
    response = api.post(REGISTER_URL, {"username": "x", "company": {"name": "公司"}}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {
        "password",
        "email",
        "company.credit_code",
        "company.role",
        "company.district",
        "company.address",
        "company.contact_phone",
    }
    assert _state() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"company__role": "trader"}, "company.role"),
        ({"company__district": "chaoyang"}, "company.district"),
        ({"email": "not-an-email"}, "email"),
        ({"username": "has space"}, "username"),
        ({"company": "not an object"}, "company"),
        ({"company__address": "   "}, "company.address"),
    ],
)
def test_bad_values_are_named(api, override, field):
    before = _state()

    response = api.post(REGISTER_URL, register_payload(**override), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == [field]
    assert _state() == before


def test_register_while_logged_in_does_not_attach_to_the_session_user(client_for, collector):
    response = client_for(collector).post(REGISTER_URL, register_payload(), format="json")

    assert response.status_code == 201
    assert User.objects.get(username="hrb_steel").company != collector.company


def test_username_race_is_a_username_conflict(api, monkeypatch):
    """A competing registration of the same username lands between our check and our insert."""
    real = services.validate_password

    def validate_then_compete(password, user=None):
        real(password, user)
        factories.make_user(username="hrb_steel")

    monkeypatch.setattr(services, "validate_password", validate_then_compete)

    response = api.post(REGISTER_URL, register_payload(), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_username"
    assert Company.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_credit_code_race_is_a_company_conflict(api, monkeypatch):
    """A competing registration of the same credit code lands between our check and our insert."""
    real = services.validate_password

    def validate_then_compete(password, user=None):
        real(password, user)
        factories.make_company(credit_code=VALID_CODE)

    monkeypatch.setattr(services, "validate_password", validate_then_compete)

    response = api.post(REGISTER_URL, register_payload(), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_company"
    assert User.objects.count() == 0
    assert AuditEntry.objects.count() == 0


# --- token ---------------------------------------------------------------------------------------


def test_token_works_as_authorization_header(api, collector):
    response = api.post(TOKEN_URL, {"username": "collector", "password": factories.PASSWORD}, format="json")

    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json() == {"token": token}
    assert Token.objects.get(user=collector).key == token
    client = APIClient()
    me = client.get(ME_URL, HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["username"] == "collector"


def test_token_is_stable_across_logins(api, collector):
    first = api.post(TOKEN_URL, {"username": "collector", "password": factories.PASSWORD}, format="json")
    second = api.post(TOKEN_URL, {"username": "collector", "password": factories.PASSWORD}, format="json")

    assert first.json()["token"] == second.json()["token"]
    assert Token.objects.count() == 1


def test_token_accepts_form_data(api, collector):
    response = api.post(TOKEN_URL, {"username": "collector", "password": factories.PASSWORD}, format="multipart")

    assert response.status_code == 200
    assert response.json()["token"]


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "collector", "password": "Wrong-Horse-42"},
        {"username": "nobody", "password": factories.PASSWORD},
    ],
)
def test_wrong_credentials(api, collector, credentials):
    response = api.post(TOKEN_URL, credentials, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    assert Token.objects.count() == 0


def test_inactive_user_gets_no_token(api, collector):
    collector.is_active = False
    collector.save()

    response = api.post(TOKEN_URL, {"username": "collector", "password": factories.PASSWORD}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    assert Token.objects.count() == 0


@pytest.mark.parametrize("body", [{}, {"username": "collector"}, {"password": "x"}, [], {"username": 1, "password": 2}])
def test_token_needs_username_and_password(api, collector, body):
    response = api.post(TOKEN_URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["fields"]) == {"username", "password"}
    assert Token.objects.count() == 0


def test_bad_token_is_401(api, collector):
    response = APIClient().get(ME_URL, HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


# --- me --------------------------------------------------------------------------------------------


def test_me_of_a_company_member(client_for, processor):
    response = client_for(processor).get(ME_URL)

    assert response.status_code == 200
    company = processor.company
    assert response.json() == {
        "username": "processor",
        "email": processor.email,
        "company": {"id": company.pk, "name": company.name, "role": "processor", "status": "verified"},
        "is_cooperative_admin": False,
    }


def test_me_of_a_cooperative_admin(client_for, coop_admin):
    response = client_for(coop_admin).get(ME_URL)

    assert response.status_code == 200
    assert response.json() == {
        "username": "coop_admin",
        "email": coop_admin.email,
        "company": None,
        "is_cooperative_admin": True,
    }


def test_me_anonymous_is_401(api):
    response = api.get(ME_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
