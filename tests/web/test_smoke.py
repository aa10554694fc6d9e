"""Every page, for every kind of visitor, in both languages: never a 500."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts import services
from core.services import notify
from tests import factories
from tests.web.helpers import png_upload

ROLES = ["anonymous", "collector", "processor", "carrier", "pending_user", "coop_admin", "no_company"]


@pytest.fixture
def world(collector, processor, carrier, pending_user, coop_admin):
    services.document_upload(
        actor=pending_user, company_id=pending_user.company_id, kind="business_licence", upload=png_upload()
    )
    services.company_suspend(actor=coop_admin, company_id=carrier.company_id, reason="测试停用")
    notify(users=[collector, coop_admin], kind="test", title="hello", url="/accounts/company/", email=False)
    return {"company": pending_user.company, "no_company": factories.make_user(username="no_company")}


def _pages(world) -> list[str]:
    return [
        reverse("home"),
        reverse("accounts:register"),
        reverse("accounts:login"),
        reverse("accounts:password_reset"),
        reverse("accounts:password_reset_done"),
        reverse("accounts:password_reset_complete"),
        reverse("accounts:password_reset_confirm", args=["MQ", "bad-token"]),
        reverse("accounts:password_change"),
        reverse("accounts:password_change_done"),
        reverse("accounts:dashboard"),
        reverse("accounts:profile"),
        reverse("accounts:company"),
        reverse("coop:index"),
        reverse("coop:companies"),
        reverse("coop:companies") + "?status=&role=carrier&q=x&page=9",
        reverse("coop:company_detail", args=[world["company"].pk]),
        reverse("coop:audit") + "?since=2026-13-01&until=x",
        reverse("core:notifications"),
        "/no/such/page/",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role(request, world, role, language):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if role == "no_company":
        client.force_login(world["no_company"])
    elif role != "anonymous":
        client.force_login(request.getfixturevalue(role))

    outcomes = {}
    for url in _pages(world):
        response = client.get(url, follow=True)
        outcomes[url] = response.status_code
        assert response.status_code in (200, 403, 404), (url, response.status_code)
        assert f'<html lang="{language}">'.encode() in response.content, url

    assert outcomes["/no/such/page/"] == 404
    assert outcomes[reverse("home")] == 200
    coop_status = outcomes[reverse("coop:companies")]
    assert coop_status == (200 if role in ("coop_admin", "anonymous") else 403)
