from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests import factories


@pytest.mark.django_db
def test_login_with_the_right_password_goes_to_the_company_page(web, collector):
    response = web.post(
        reverse("accounts:login"), {"username": "collector", "password": factories.PASSWORD}, follow=True
    )

    assert response.redirect_chain == [(reverse("accounts:dashboard"), 302), (reverse("accounts:company"), 302)]
    assert response.context["user"] == collector


@pytest.mark.django_db
def test_login_of_a_cooperative_admin_goes_to_the_review_queue(web, coop_admin):
    response = web.post(
        reverse("accounts:login"), {"username": "coop_admin", "password": factories.PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1] == (reverse("coop:companies"), 302)
    assert response.status_code == 200


@pytest.mark.django_db
def test_login_with_a_wrong_password_stays_on_the_page_with_an_error(web, collector):
    response = web.post(reverse("accounts:login"), {"username": "collector", "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Please enter a correct username and password. Note that both fields may be case-sensitive."
    ]
    assert "_auth_user_id" not in web.session


@pytest.mark.django_db
def test_login_follows_next(web, collector):
    response = web.post(
        reverse("accounts:login") + "?next=/notifications/",
        {"username": "collector", "password": factories.PASSWORD, "next": "/notifications/"},
    )

    assert response.status_code == 302
    assert response.url == "/notifications/"


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(web_as, collector):
    client = web_as(collector)

    refused = client.get(reverse("accounts:logout"))
    response = client.post(reverse("accounts:logout"))

    assert refused.status_code == 405
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_header_offers_logout_as_a_form(web_as, collector):
    response = web_as(collector).get(reverse("home"))

    assert f'<form action="{reverse("accounts:logout")}" method="post"'.encode() in response.content


@pytest.mark.django_db
def test_dashboard_of_a_user_without_company_is_the_profile(web_as):
    user = factories.make_user(username="loner")

    response = web_as(user).get(reverse("accounts:dashboard"))

    assert response.status_code == 302
    assert response.url == reverse("accounts:profile")


@pytest.mark.django_db
def test_dashboard_needs_a_login(web):
    response = web.get(reverse("accounts:dashboard"))

    assert response.status_code == 302
    assert response.url == reverse("accounts:login") + "?next=" + reverse("accounts:dashboard")


@pytest.mark.django_db
def test_password_reset_sends_a_link_that_sets_a_new_password(web, collector):
    response = web.post(reverse("accounts:password_reset"), {"email": collector.email})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [collector.email]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)

    form_page = web.get(link, follow=True)
    assert form_page.context["validlink"] is True
    done = web.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Fresh-Paper-2026", "new_password2": "Fresh-Paper-2026"},
    )

    assert done.status_code == 302
    assert done.url == reverse("accounts:password_reset_complete")
    collector.refresh_from_db()
    assert collector.check_password("Fresh-Paper-2026")
    assert web.get(reverse("accounts:password_reset_complete")).status_code == 200


@pytest.mark.django_db
def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(web):
    response = web.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_change_page(web_as, collector):
    client = web_as(collector)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": factories.PASSWORD, "new_password1": "Other-Scrap-88", "new_password2": "Other-Scrap-88"},
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_change_done")
    collector.refresh_from_db()
    assert collector.check_password("Other-Scrap-88")
