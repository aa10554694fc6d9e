"""E-mails in tests: core.services.notify queues them (OutboundEmail) and the auction clock
sends them (core.services.outbox_send); here the test plays the clock."""

from __future__ import annotations

import time

from django.core import mail
from django.core.mail.backends import locmem

from core.services import outbox_send


def sent_mail() -> list:
    """Every e-mail sent so far (django.core.mail.outbox), after sending the queued ones."""
    outbox_send()
    return mail.outbox


class DownBackend:
    """An e-mail backend whose server refuses every connection (settings.EMAIL_BACKEND)."""

    def __init__(self, **kwargs) -> None:
        pass

    def open(self) -> None:
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    def close(self) -> None:
        pass

    def send_messages(self, messages) -> int:
        raise ConnectionRefusedError("[Errno 111] Connection refused")


class SlowBackend(locmem.EmailBackend):
    """The test outbox, 10 ms per message: long enough for concurrent senders to overlap."""

    def send_messages(self, messages) -> int:
        time.sleep(0.01)
        return super().send_messages(messages)


class RejectingBackend(DownBackend):
    """A mail server that accepts the connection and refuses every message."""

    def open(self) -> None:
        pass

    def send_messages(self, messages) -> int:
        raise OSError("550 mailbox unavailable")
