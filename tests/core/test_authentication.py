"""Token authentication (core/authentication.py): the user and its company in one cheap
statement, the same answers as DRF's own for unknown tokens and inactive users."""

import pytest
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.authentication import TokenAuthentication

pytestmark = pytest.mark.django_db


def _token(user) -> str:
    return Token.objects.create(user=user).key


def test_token_gives_the_user_with_its_company_loaded(processor, django_assert_num_queries):
    key = _token(processor)

    with django_assert_num_queries(1):
        user, token = TokenAuthentication().authenticate_credentials(key)
    with django_assert_num_queries(0):
        assert (user.pk, user.company.pk, user.company.name) == (
            processor.pk,
            processor.company_id,
            processor.company.name,
        )
        assert (token.key, token.user) == (key, user)


def test_admin_without_company(coop_admin, django_assert_num_queries):
    key = _token(coop_admin)
    with django_assert_num_queries(1):
        user, _ = TokenAuthentication().authenticate_credentials(key)
    with django_assert_num_queries(0):
        assert user.company is None


def test_unknown_token_and_inactive_user_are_refused(processor):
    key = _token(processor)
    with pytest.raises(exceptions.AuthenticationFailed):
        TokenAuthentication().authenticate_credentials("0" * 40)
    processor.is_active = False
    processor.save(update_fields=["is_active"])
    with pytest.raises(exceptions.AuthenticationFailed):
        TokenAuthentication().authenticate_credentials(key)


def test_through_the_api(processor):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token(processor)}")
    assert client.get("/api/v1/me/").json()["username"] == processor.username

    client.credentials(HTTP_AUTHORIZATION="Token nope")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"]
