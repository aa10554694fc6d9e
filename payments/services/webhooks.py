"""Stripe webhooks: verified on the raw body, stored once per event id in the transaction of
their effect, and acted on from a fresh read of the object (never from the event's copy), so
a repeated, late or out-of-order event cannot move anything backwards."""

from __future__ import annotations

import json
import logging

import stripe
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import DomainError, invalid
from payments import stripe_client
from payments.models import StripeEvent
from payments.services.common import provider_unavailable
from payments.stripe_client import Intent, ProviderUnavailable, StripeRejected

log = logging.getLogger("payments.webhooks")


def _apply_intent(intent: Intent) -> str:
    from payments.services.charges import charge_sync
    from payments.services.holds import hold_sync

    if intent.metadata.get("settlement_id"):
        return f"charge:{charge_sync(intent)}"
    return f"hold:{hold_sync(intent)}"


def webhook_receive(*, payload: bytes, signature: str | None) -> str:
    """Handle one delivery; returns what it did ("duplicate", "hold:held", "ignored" …).
    400 `invalid_signature` changes nothing; 409 `payment_provider_unavailable` makes Stripe
    deliver it again later."""
    try:
        stripe_client.webhook_verify(payload, signature)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        raise invalid("invalid_signature", _("The Stripe signature does not match this payload.")) from None
    try:
        event = json.loads(payload)
        event_id, event_type = str(event["id"]), str(event["type"])
        obj = event.get("data", {}).get("object", {}) or {}
        object_id = str(obj.get("id") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise invalid("invalid_payload", _("Not a Stripe event.")) from None
    if StripeEvent.objects.filter(event_id=event_id).exists():
        return "duplicate"

    intent: Intent | None = None
    try:
        if event_type.startswith("payment_intent.") and object_id:
            intent = stripe_client.intent_retrieve(object_id)
        elif event_type == "setup_intent.succeeded" and object_id:
            from payments.services.cards import card_setup_complete

            try:
                card_setup_complete(actor=None, setup_intent_id=object_id)
            except DomainError as exc:  # not one of ours: the event is still recorded
                if exc.code == "payment_provider_unavailable":
                    raise ProviderUnavailable(exc.detail) from None
    except ProviderUnavailable:
        raise provider_unavailable() from None
    except StripeRejected as exc:
        if exc.http_status != 404:
            raise
        intent = None  # not (or no longer) known to Stripe: record the event, do nothing

    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(event_id=event_id, type=event_type[:80], object_id=object_id[:80])
        except IntegrityError:
            return "duplicate"
        outcome = _apply_intent(intent) if intent is not None else "ignored"
        record.outcome = outcome[:120]
        record.save(update_fields=["outcome"])
    return outcome
