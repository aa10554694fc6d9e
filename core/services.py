"""Writes of the cross-cutting records. Called by the services of every app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import override

from core.models import AuditEntry, Notification


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
    """In-app notification for each user, and an e-mail sent after the transaction commits.

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
        messages = [EmailMessage(title_text, message, None, [recipient]) for recipient in recipients]

        def send() -> None:
            get_connection(fail_silently=True).send_messages(messages)

        transaction.on_commit(send)
    return rows


def notification_mark_read(*, user: Any, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) unread notification of `user` as read."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
