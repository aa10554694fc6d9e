"""Unified social credit code (GB 32100-2015) and phone numbers, through the validators and
through POST /api/v1/accounts/register/."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Company, User
from accounts.validators import (
    credit_code_check_char,
    credit_code_error,
    normalize_credit_code,
    normalize_phone,
    validate_credit_code,
    validate_phone,
)
from core.models import AuditEntry
from tests import factories
from tests.accounts.payloads import REGISTER_URL, register_payload

# Codes of real, registered companies (published on their licences): each passes its check.
REAL_CODES = [
    "91350100M000100Y43",
    "914403001922038216",
    "91330100716105852F",
    "9144030071526726XG",
    "91110000600037341L",
]

WRONG_LENGTH = [
    "91350100M000100Y4",  # 17
    "91350100M000100Y433",  # 19
    "",
]

# The last character changed to every other symbol would also fail; one per code is enough.
WRONG_CHECK = [
    "91350100M000100Y44",
    "914403001922038217",
    "91330100716105852E",
    "9144030071526726XH",
    "91110000600037341K",
]

# A valid body with one illegal symbol in it (I, O, Z, S, V are never used; nor punctuation or Han).
ILLEGAL_CHARS = [
    "91350100M00010IY43",
    "91350100M00010OY43",
    "91350100M00010ZY43",
    "91350100M00010SY43",
    "91350100M00010VY43",
    "91350100M00010.Y43",
    "91350100M00010/Y43",
    "91350100M00010中Y43",
]


def _register_state() -> tuple[int, int, int]:
    return User.objects.count(), Company.objects.count(), AuditEntry.objects.count()


# --- the validator -------------------------------------------------------------------------


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_pass_the_check(code):
    assert credit_code_check_char(code[:17]) == code[17]
    assert credit_code_error(code) is None
    validate_credit_code(code)


@pytest.mark.parametrize("code", REAL_CODES)
def test_lower_case_codes_are_normalised_to_upper_case(code):
    assert normalize_credit_code(code.lower()) == code
    validate_credit_code(code.lower())


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        (" 91350100M000100Y43 ", "91350100M000100Y43"),
        ("9135 0100 M000 100Y 43", "91350100M000100Y43"),
        ("91350100m000100y43\n", "91350100M000100Y43"),
        ("9135-0100-M000100Y43", "91350100M000100Y43"),
    ],
)
def test_spaces_are_stripped(typed, normalised):
    assert normalize_credit_code(typed) == normalised
    validate_credit_code(typed)


@pytest.mark.parametrize("code", WRONG_LENGTH)
def test_wrong_length_is_refused(code):
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(code)

    assert caught.value.code == "invalid_credit_code"
    assert "18" in caught.value.messages[0]


@pytest.mark.parametrize("code", WRONG_CHECK)
def test_wrong_check_character_is_refused(code):
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(code)

    assert caught.value.code == "invalid_credit_code"


@pytest.mark.parametrize("code", ILLEGAL_CHARS)
def test_illegal_characters_are_refused(code):
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(code)

    assert caught.value.code == "invalid_credit_code"


def test_illegal_character_message_names_the_character():
    assert "I" in credit_code_error("91350100M00010IY43")


def test_none_is_refused():
    with pytest.raises(ValidationError):
        validate_credit_code(None)


def test_factory_codes_are_valid():
    for seed in range(200):
        assert credit_code_error(factories.credit_code(seed)) is None


# --- through the register API ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("code", REAL_CODES)
def test_register_accepts_real_codes(api, code):
    response = api.post(REGISTER_URL, register_payload(company__credit_code=code), format="json")

    assert response.status_code == 201, response.json()
    assert Company.objects.get().credit_code == code


@pytest.mark.django_db
@pytest.mark.parametrize("code", REAL_CODES)
def test_register_stores_a_lower_case_code_in_upper_case(api, code):
    response = api.post(REGISTER_URL, register_payload(company__credit_code=code.lower()), format="json")

    assert response.status_code == 201, response.json()
    assert Company.objects.get().credit_code == code


@pytest.mark.django_db
def test_register_strips_spaces_from_the_code(api):
    response = api.post(REGISTER_URL, register_payload(company__credit_code=" 9135 0100 M000 100Y 43 "), format="json")

    assert response.status_code == 201, response.json()
    assert Company.objects.get().credit_code == "91350100M000100Y43"


@pytest.mark.django_db
@pytest.mark.parametrize("code", REAL_CODES)
def test_lower_case_duplicate_of_a_registered_code_is_a_conflict(api, code):
    factories.make_company(credit_code=code)
    before = _register_state()

    response = api.post(REGISTER_URL, register_payload(company__credit_code=code.lower()), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_company"
    assert _register_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("code", WRONG_LENGTH + WRONG_CHECK + ILLEGAL_CHARS)
def test_register_refuses_an_invalid_code(api, code):
    before = _register_state()

    response = api.post(REGISTER_URL, register_payload(company__credit_code=code), format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_credit_code"
    assert body["detail"]
    assert list(body["fields"]) == ["company.credit_code"]
    assert _register_state() == before


# --- phones ------------------------------------------------------------------------------------

VALID_PHONES = [
    ("13800138000", "13800138000"),
    ("+8613800138000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"),
    ("008613800138000", "13800138000"),
    ("19912345678", "19912345678"),
    ("0451-86661234", "0451-86661234"),
    ("045186661234", "045186661234"),
    ("010-12345678", "010-12345678"),
    ("(0451) 8666 1234", "045186661234"),
    ("0451-86661234-801", "0451-86661234-801"),
]
INVALID_PHONES = [
    "",
    "12345",
    "1380013800",  # 10 digits
    "138001380001",  # 12 digits
    "12800138000",  # no mobile prefix 12
    "23800138000",
    "+1 415 555 0100",
    "0451-123",
    "phone",
    "1380013800a",
]


@pytest.mark.parametrize(("typed", "normalised"), VALID_PHONES)
def test_valid_phones(typed, normalised):
    assert normalize_phone(typed) == normalised
    validate_phone(typed)


@pytest.mark.parametrize("phone", INVALID_PHONES)
def test_invalid_phones(phone):
    with pytest.raises(ValidationError) as caught:
        validate_phone(phone)

    assert caught.value.code == "invalid_phone"


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "normalised"), VALID_PHONES)
def test_register_accepts_and_normalises_phones(api, typed, normalised):
    response = api.post(REGISTER_URL, register_payload(company__contact_phone=typed), format="json")

    assert response.status_code == 201, response.json()
    assert Company.objects.get().contact_phone == normalised


@pytest.mark.django_db
@pytest.mark.parametrize("phone", [p for p in INVALID_PHONES if p])
def test_register_refuses_invalid_phones(api, phone):
    before = _register_state()

    response = api.post(REGISTER_URL, register_payload(company__contact_phone=phone), format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_phone"
    assert list(body["fields"]) == ["company.contact_phone"]
    assert _register_state() == before
