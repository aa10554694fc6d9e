from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

LOGIN = reverse("accounts:login")


@pytest.mark.django_db
def test_pages_are_chinese_by_default():
    response = Client().get(LOGIN)

    assert response.status_code == 200
    assert b'<html lang="zh-hans">' in response.content
    # Django's own catalogue already speaks zh-Hans: the login form's labels.
    assert "用户名".encode() in response.content


@pytest.mark.django_db
def test_the_language_switch_changes_the_page_language():
    client = Client()
    page = client.get(LOGIN)
    assert b'action="/i18n/setlang/" method="post"' in page.content

    switched = client.post(reverse("set_language"), {"language": "en", "next": LOGIN}, follow=True)

    assert switched.redirect_chain == [(LOGIN, 302)]
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert b'<html lang="en">' in switched.content
    assert b'<label for="id_username">Username:</label>' in switched.content
    assert "用户名".encode() not in switched.content
    assert re.search(rb'value="en" lang="en"\s+aria-current="true"', switched.content)


@pytest.mark.django_db
def test_switching_back_to_chinese():
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    switched = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"}, follow=True)

    assert b'<html lang="zh-hans">' in switched.content


# Chinese may appear in templates only as the brand name (a msgid too) and in the standalone
# 500 page; every other string is an English msgid translated by the catalogue.
BRAND = "再生资源信息服务平台"
CJK = re.compile(r"[\u3400-\u9fff]")


def test_templates_hard_code_no_chinese_but_the_brand():
    root = Path(settings.BASE_DIR) / "templates"
    offenders = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name == "500.html":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if CJK.search(line.replace(f'{{% translate "{BRAND}" %}}', "")):
                offenders.append(f"{path.relative_to(root)}:{number}")
    assert offenders == []
