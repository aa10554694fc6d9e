"""Writes of the cross-cutting records. Called by the services of every app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import override

from core.models import AuditEntry, Notification, OutboundEmail


def audit_record(
    *,
    actor: Any | None,
    action: str,
    target_type: str,
    target_id: Any,
    target_label: str = "",
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append one entry. Call it inside the transaction of the change it records."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "system",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_label=target_label[:255],
        before=before or {},
        after=after or {},
        reason=reason,
    )


def notify(
    *, users: Iterable[Any], kind: str, title: Any, body: Any = "", url: str = "", email: bool = True
) -> list[Notification]:
    """In-app notification for each user, and an e-mail to each address, queued in the same
    transaction and sent by the auction clock (outbox_send).

    `title` and `body` may be lazy translations: they are rendered in the platform's default
    language (zh-Hans), the language of the cooperative's correspondence.
    """
    users = [user for user in users if user.is_active]
    with override(settings.LANGUAGE_CODE):
        title_text, body_text = str(title), str(body)
    rows = Notification.objects.bulk_create(
        [Notification(user=user, kind=kind, title=title_text, body=body_text, url=url) for user in users]
    )
    recipients = list(dict.fromkeys(user.email for user in users if user.email))
    if email and recipients:
        link = f"{settings.SITE_URL}{url}" if url else ""
        message = "\n\n".join(part for part in (body_text, link) if part)
        # One message per recipient: a shared To: line would show every address to everyone.
        OutboundEmail.objects.bulk_create(
            [OutboundEmail(to=recipient, subject=title_text, body=message) for recipient in recipients]
        )
    return rows


def notification_mark_read(*, user: Any, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) unread notification of `user` as read."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())


# Seconds before the 2nd, 3rd… attempt of an e-mail whose send failed (the mail server down or
# refusing); after OutboundEmail.MAX_ATTEMPTS it stays unsent, with its error, in the admin.
OUTBOX_RETRY_SECONDS = (60, 300, 1800, 7200, 21600)
# A sender claims its batch for this long: a sender that dies mid-batch leaves the rest to be
# sent again after it (at least once).
OUTBOX_CLAIM_SECONDS = 300


def outbox_send(*, limit: int = 100, now: Any = None) -> int:
    """Send the due e-mails of the outbox, oldest first, over one connection; returns how many
    were sent. The batch is claimed in a short transaction (SKIP LOCKED on PostgreSQL, so
    several senders never take the same e-mail) and sent outside it: no transaction waits on
    the mail server. A send that fails is tried again later."""
    now = now or timezone.now()
    due = OutboundEmail.objects.filter(
        sent_at__isnull=True, send_after__lte=now, attempts__lt=OutboundEmail.MAX_ATTEMPTS
    )
    if not due.exists():  # the usual answer: a read, not a transaction
        return 0
    with transaction.atomic():
        batch = list(due.select_for_update(skip_locked=True).order_by("send_after", "id")[:limit])
        for email in batch:
            email.attempts += 1
            email.send_after = now + dt.timedelta(seconds=OUTBOX_CLAIM_SECONDS)
        OutboundEmail.objects.bulk_update(batch, ["attempts", "send_after"])
    if not batch:
        return 0
    sent = 0
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:  # noqa: BLE001 - whatever the backend raises, try again later
        for email in batch:
            _send_failed(email, exc, now)
    else:
        try:
            for email in batch:
                try:
                    connection.send_messages([EmailMessage(email.subject, email.body, None, [email.to])])
                except Exception as exc:  # noqa: BLE001
                    _send_failed(email, exc, now)
                else:
                    email.sent_at = timezone.now()
                    sent += 1
        finally:
            connection.close()
    OutboundEmail.objects.bulk_update(batch, ["sent_at", "send_after", "last_error"])
    return sent


def _send_failed(email: OutboundEmail, error: Exception, now: Any) -> None:
    email.last_error = f"{type(error).__name__}: {error}"[:2000]
    delay = OUTBOX_RETRY_SECONDS[min(email.attempts, len(OUTBOX_RETRY_SECONDS)) - 1]
    email.send_after = now + dt.timedelta(seconds=delay)
