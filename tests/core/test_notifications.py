"""In-app notifications and their e-mails (core.services.notify) and the notifications API."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils.translation import gettext_lazy

from core.models import Notification
from core.services import notify
from tests import factories
from tests.mail import sent_mail

pytestmark = pytest.mark.django_db


def test_notify_writes_a_row_per_active_user_and_mails_each_one_alone(django_capture_on_commit_callbacks):
    alice = factories.make_user(email="alice@example.com")
    bob = factories.make_user(email="bob@example.com")
    no_mail = factories.make_user(email="")
    gone = factories.make_user(email="gone@example.com", is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        rows = notify(
            users=[alice, bob, no_mail, gone], kind="test", title="标题", body="正文", url="/accounts/company/"
        )

    assert sorted(row.user_id for row in rows) == sorted([alice.pk, bob.pk, no_mail.pk])
    assert Notification.objects.count() == 3
    assert mail.outbox == []  # queued with the notices, sent by the clock
    assert sorted(message.to for message in sent_mail()) == [["alice@example.com"], ["bob@example.com"]]
    message = mail.outbox[0]
    assert message.subject == "标题"
    assert message.body == "正文\n\nhttp://127.0.0.1:8000/accounts/company/"


def test_notify_renders_lazy_texts_in_the_platform_language(settings):
    user = factories.make_user()

    [row] = notify(users=[user], kind="t", title=gettext_lazy("Not found."), email=False)

    assert row.title == "未找到。"


def test_notify_without_email(django_capture_on_commit_callbacks):
    user = factories.make_user(email="a@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[user], kind="t", title="x", email=False)

    assert Notification.objects.count() == 1
    assert sent_mail() == []


def test_one_email_per_address(django_capture_on_commit_callbacks):
    users = [factories.make_user(email="shared@example.com") for _ in range(2)]

    with django_capture_on_commit_callbacks(execute=True):
        notify(users=users, kind="t", title="x")

    assert [message.to for message in sent_mail()] == [["shared@example.com"]]


@pytest.fixture
def inbox(collector):
    older = Notification.objects.create(user=collector, kind="t", title="older")
    newer = Notification.objects.create(user=collector, kind="t", title="newer")
    theirs = Notification.objects.create(user=factories.make_user(), kind="t", title="theirs")
    return older, newer, theirs


def test_list_is_mine_and_newest_first(client_for, collector, inbox):
    older, newer, _theirs = inbox

    response = client_for(collector).get("/api/v1/notifications/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [newer.pk, older.pk]
    assert response.json()["results"][0]["is_read"] is False


def test_mark_one_read(client_for, collector, inbox):
    older, newer, _theirs = inbox
    client = client_for(collector)

    first = client.post(f"/api/v1/notifications/{older.pk}/read/")
    again = client.post(f"/api/v1/notifications/{older.pk}/read/")

    assert (first.status_code, first.json()) == (200, {"marked": 1})
    assert (again.status_code, again.json()) == (200, {"marked": 0})
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.is_read, newer.is_read) == (True, False)
    unread = client.get("/api/v1/notifications/?unread=1").json()
    assert [row["id"] for row in unread["results"]] == [newer.pk]


def test_someone_elses_notification_is_404(client_for, collector, inbox):
    _older, _newer, theirs = inbox

    response = client_for(collector).post(f"/api/v1/notifications/{theirs.pk}/read/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(client_for, collector, inbox):
    older, newer, theirs = inbox

    response = client_for(collector).post("/api/v1/notifications/read-all/")

    assert response.json() == {"marked": 2}
    assert Notification.objects.filter(read_at__isnull=True).get() == theirs


def test_anonymous_has_no_notifications(api):
    assert api.get("/api/v1/notifications/").status_code == 401
    assert api.post("/api/v1/notifications/read-all/").status_code == 401


# --- The outbox: e-mails leave with the clock, and a failed send is tried again ---------------


def test_queued_emails_are_sent_once():
    from core.models import OutboundEmail
    from core.services import outbox_send

    user = factories.make_user(email="a@example.com")
    notify(users=[user], kind="t", title="x", body="y")

    assert outbox_send() == 1
    assert outbox_send() == 0
    assert [message.to for message in mail.outbox] == [["a@example.com"]]
    email = OutboundEmail.objects.get()
    assert (email.attempts, email.last_error) == (1, "") and email.sent_at is not None


def test_a_failed_send_is_tried_again_later_and_then_given_up(settings):
    import datetime as dt

    from django.utils import timezone

    from core.models import OutboundEmail
    from core.services import OUTBOX_RETRY_SECONDS, outbox_send

    notify(users=[factories.make_user(email="a@example.com")], kind="t", title="x")
    settings.EMAIL_BACKEND = "tests.mail.DownBackend"
    now = timezone.now()

    assert outbox_send(now=now) == 0
    email = OutboundEmail.objects.get()
    assert email.attempts == 1 and email.sent_at is None and "Connection refused" in email.last_error
    assert email.send_after == now + dt.timedelta(seconds=OUTBOX_RETRY_SECONDS[0])
    assert outbox_send(now=now + dt.timedelta(seconds=OUTBOX_RETRY_SECONDS[0] - 1)) == 0  # not due yet
    assert OutboundEmail.objects.get().attempts == 1

    for _ in range(OutboundEmail.MAX_ATTEMPTS - 1):
        now = OutboundEmail.objects.get().send_after
        outbox_send(now=now)
    assert OutboundEmail.objects.get().attempts == OutboundEmail.MAX_ATTEMPTS
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_send(now=now + dt.timedelta(days=1)) == 0  # given up: left for the admin to see
    assert mail.outbox == []


def test_a_refused_message_is_tried_again(settings):
    from core.models import OutboundEmail
    from core.services import outbox_send

    notify(users=[factories.make_user(email="a@example.com")], kind="t", title="x")
    settings.EMAIL_BACKEND = "tests.mail.RejectingBackend"

    assert outbox_send() == 0
    email = OutboundEmail.objects.get()
    assert (email.attempts, email.sent_at) == (1, None) and "550 mailbox unavailable" in email.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_send(now=email.send_after) == 1
    assert [message.to for message in mail.outbox] == [["a@example.com"]]


def test_the_auction_clock_sends_the_queue():
    from django.core.management import call_command

    notify(users=[factories.make_user(email="a@example.com")], kind="t", title="x")

    call_command("run_auction_clock", "--once")

    assert [message.to for message in mail.outbox] == [["a@example.com"]]


@pytest.mark.django_db(transaction=True)
def test_the_clocks_mail_thread_sends_until_stopped():
    """The running clock sends e-mails on a thread of its own: a slow mail server never delays
    a lot's close."""
    import threading
    import time

    from auctions.management.commands.run_auction_clock import send_mail_until

    notify(users=[factories.make_user(email="a@example.com")], kind="t", title="x")
    stop = threading.Event()
    thread = threading.Thread(target=send_mail_until, args=(stop, 0.05))
    thread.start()
    deadline = time.monotonic() + 10
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(5)

    assert not thread.is_alive()
    assert [message.to for message in mail.outbox] == [["a@example.com"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_clocks_sending_at_once_send_each_email_once(settings):
    from core.models import OutboundEmail
    from core.services import outbox_send
    from tests.auctions.helpers_live import run_in_threads

    settings.EMAIL_BACKEND = "tests.mail.SlowBackend"
    addresses = [f"u{n}@example.com" for n in range(30)]
    OutboundEmail.objects.bulk_create([OutboundEmail(to=to, subject="s", body="b") for to in addresses])

    def clock() -> int:
        sent = 0
        while batch := outbox_send(limit=4):
            sent += batch
        return sent

    counts = run_in_threads(clock, [(), (), ()])

    assert sum(counts) == 30
    assert sorted(message.to[0] for message in mail.outbox) == sorted(addresses)
