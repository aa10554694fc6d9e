from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import Company
from core.models import AuditEntry
from tests import factories

User = get_user_model()
URL = reverse("accounts:register")


def _form(**overrides) -> dict:
    data = {
        "username": "liwei",
        "email": "liwei@example.com",
        "password1": "Scrap-Iron-2026",
        "password2": "Scrap-Iron-2026",
        "company_name": "哈尔滨绿源再生资源有限公司",
        "credit_code": factories.credit_code(20260101),
        "role": "processor",
        "district": "daoli",
        "address": "道里区安定街 8 号",
        "contact_phone": "0451-84661234",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_register_page_renders_every_field(web):
    response = web.get(URL)

    assert response.status_code == 200
    assert list(response.context["form"].fields) == [
        "username",
        "email",
        "password1",
        "password2",
        "company_name",
        "credit_code",
        "role",
        "district",
        "address",
        "contact_phone",
    ]
    assert b'name="credit_code"' in response.content


@pytest.mark.django_db
def test_register_creates_a_pending_company_logs_in_and_shows_its_page(web):
    data = _form(credit_code=factories.credit_code(20260101).lower())

    response = web.post(URL, data, follow=True)

    user = User.objects.get(username="liwei")
    company = user.company
    assert response.redirect_chain == [(reverse("accounts:company"), 302)]
    assert response.context["user"] == user
    assert company.name == "哈尔滨绿源再生资源有限公司"
    assert company.credit_code == factories.credit_code(20260101)
    assert company.role == Company.Role.PROCESSOR
    assert company.status == Company.Status.PENDING
    assert company.district == "daoli"
    assert company.contact_phone == "0451-84661234"
    assert user.email == "liwei@example.com"
    assert user.check_password("Scrap-Iron-2026")
    assert b'data-status="pending"' in response.content
    assert [str(m) for m in response.context["messages"]] == [
        "Welcome! Your company is registered and awaits review by the cooperative. "
        "Upload your licence documents below to speed it up."
    ]
    assert AuditEntry.objects.filter(action="company.register", target_id=str(company.pk)).count() == 1


def _assert_refused(response, field: str, message: str) -> None:
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert message.encode() in response.content or message.replace("'", "&#x27;").encode() in response.content
    assert "_auth_user_id" not in response.wsgi_request.session


@pytest.mark.django_db
def test_register_shows_a_bad_credit_code_on_its_field(web):
    code = factories.credit_code(7)
    wrong_check = code[:17] + ("1" if code[17] != "1" else "2")

    response = web.post(URL, _form(credit_code=wrong_check))

    _assert_refused(
        response, "credit_code", "The check character does not match: please check the code for a typing error."
    )
    assert User.objects.count() == 0
    assert Company.objects.count() == 0


@pytest.mark.django_db
def test_register_shows_a_short_credit_code_on_its_field(web):
    response = web.post(URL, _form(credit_code="91230100ABC"))

    _assert_refused(response, "credit_code", "A unified social credit code has 18 characters; this one has 11.")
    assert Company.objects.count() == 0


@pytest.mark.django_db
def test_register_shows_a_duplicate_company_on_the_credit_code(web):
    existing = factories.make_company(credit_code=factories.credit_code(99))

    response = web.post(URL, _form(credit_code=existing.credit_code))

    _assert_refused(response, "credit_code", "A company with this credit code is already registered.")
    assert Company.objects.count() == 1
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_register_shows_a_taken_username_on_its_field(web):
    factories.make_user(username="LiWei")

    response = web.post(URL, _form())

    _assert_refused(response, "username", "This username is taken.")
    assert User.objects.count() == 1
    assert Company.objects.count() == 0


@pytest.mark.django_db
def test_register_shows_a_weak_password_on_the_password_field(web):
    response = web.post(URL, _form(password1="12345678", password2="12345678"))

    _assert_refused(response, "password1", "This password is too common. This password is entirely numeric.")
    assert User.objects.count() == 0
    assert Company.objects.count() == 0


@pytest.mark.django_db
def test_register_shows_a_bad_phone_on_its_field(web):
    response = web.post(URL, _form(contact_phone="12345"))

    _assert_refused(
        response,
        "contact_phone",
        "Enter a mainland mobile number (11 digits starting with 1) or a landline with area code (0451-…).",
    )
    assert Company.objects.count() == 0


@pytest.mark.django_db
def test_register_shows_differing_passwords_before_calling_the_service(web):
    response = web.post(URL, _form(password2="Scrap-Iron-2027"))

    _assert_refused(response, "password2", "The two passwords differ.")
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_register_requires_every_field(web):
    response = web.post(URL, {})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == set(_form())
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_register_sends_a_logged_in_user_to_the_dashboard(web_as, collector):
    response = web_as(collector).get(URL)

    assert response.status_code == 302
    assert response.url == reverse("accounts:dashboard")
