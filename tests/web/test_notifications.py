from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Notification
from core.services import notify
from tests import factories

URL = reverse("core:notifications")


def _notify(user, title: str, *, url: str = "", minutes_ago: int = 0) -> Notification:
    (row,) = notify(users=[user], kind="test", title=title, body=f"{title} body", url=url, email=False)
    if minutes_ago:
        Notification.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(minutes=minutes_ago))
    return row


@pytest.mark.django_db
def test_the_list_is_newest_first_with_unread_highlighted(web_as, collector):
    old = _notify(collector, "old", minutes_ago=10)
    new = _notify(collector, "new")
    Notification.objects.filter(pk=old.pk).update(read_at=timezone.now())
    _notify(factories.make_user(), "someone else's")

    response = web_as(collector).get(URL)

    assert response.status_code == 200
    assert [n.title for n in response.context["page_obj"]] == ["new", "old"]
    assert f'class="notification is-unread" data-notification="{new.pk}" data-read="false"'.encode() in response.content
    assert f'class="notification" data-notification="{old.pk}" data-read="true"'.encode() in response.content
    assert b"someone else" not in response.content


@pytest.mark.django_db
def test_the_header_shows_the_unread_count(web_as, collector):
    _notify(collector, "one")
    _notify(collector, "two")

    response = web_as(collector).get(reverse("home"))

    assert response.context["unread_notifications"] == 2
    assert b'data-testid="unread-count" title="unread">2<' in response.content


@pytest.mark.django_db
def test_mark_one_read_and_go_to_its_link(web_as, collector):
    first = _notify(collector, "first", url="/accounts/company/")
    second = _notify(collector, "second")

    response = web_as(collector).post(
        reverse("core:notification_read", args=[first.pk]), {"next": "/accounts/company/"}
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert response.status_code == 302
    assert response.url == "/accounts/company/"
    assert first.read_at is not None
    assert second.read_at is None


@pytest.mark.django_db
def test_mark_read_refuses_a_foreign_next_and_someone_elses_notification(web_as, collector):
    foreign = _notify(factories.make_user(), "not yours")

    response = web_as(collector).post(
        reverse("core:notification_read", args=[foreign.pk]), {"next": "https://evil.example/"}
    )

    foreign.refresh_from_db()
    assert response.status_code == 302
    assert response.url == URL
    assert foreign.read_at is None


@pytest.mark.django_db
def test_mark_all_read(web_as, collector):
    for title in ("a", "b", "c"):
        _notify(collector, title)
    client = web_as(collector)

    response = client.post(reverse("core:notifications_read_all"), follow=True)

    assert response.redirect_chain == [(URL, 302)]
    assert Notification.objects.filter(user=collector, read_at__isnull=True).count() == 0
    assert response.context["unread_notifications"] == 0
    assert b'data-read="false"' not in response.content


@pytest.mark.django_db
def test_notification_pages_need_a_login_and_post(web, web_as, collector):
    note = _notify(collector, "x")

    anonymous = web.get(URL)
    get_read = web_as(collector).get(reverse("core:notification_read", args=[note.pk]))

    assert anonymous.status_code == 302
    assert anonymous.url == reverse("accounts:login") + "?next=" + URL
    assert get_read.status_code == 405


@pytest.mark.django_db
def test_the_list_is_paginated(web_as, collector):
    for n in range(25):
        _notify(collector, f"n{n}", minutes_ago=100 - n)

    response = web_as(collector).get(URL, {"page": 2})

    assert [n.title for n in response.context["page_obj"]] == ["n4", "n3", "n2", "n1", "n0"]
