from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from tests import factories
from tests.web.helpers import png_upload


@pytest.fixture
def document(pending_user):
    return services.document_upload(
        actor=pending_user, company_id=pending_user.company_id, kind="business_licence", upload=png_upload()
    )


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.django_db
def test_the_owner_downloads_its_document(web_as, pending_user, document):
    response = web_as(pending_user).get(reverse("accounts:document", args=[document.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    assert _body(response) == png_upload().read()


@pytest.mark.django_db
def test_a_colleague_of_the_same_company_downloads_it(web_as, pending_user, document):
    colleague = factories.make_user(company=pending_user.company)

    response = web_as(colleague).get(reverse("accounts:document", args=[document.pk]))

    assert response.status_code == 200


@pytest.mark.django_db
def test_another_company_gets_404(web_as, processor, document):
    response = web_as(processor).get(reverse("accounts:document", args=[document.pk]))

    assert response.status_code == 404
    assert b'data-status-code="404"' in response.content


@pytest.mark.django_db
def test_a_cooperative_admin_downloads_it(web_as, coop_admin, document):
    response = web_as(coop_admin).get(reverse("accounts:document", args=[document.pk]))

    assert response.status_code == 200
    assert _body(response) == png_upload().read()


@pytest.mark.django_db
def test_anonymous_is_sent_to_log_in(web, document):
    url = reverse("accounts:document", args=[document.pk])

    response = web.get(url)

    assert response.status_code == 302
    assert response.url == reverse("accounts:login") + "?next=" + url


@pytest.mark.django_db
def test_an_unknown_document_is_404(web_as, coop_admin):
    response = web_as(coop_admin).get(reverse("accounts:document", args=[999_999]))

    assert response.status_code == 404
