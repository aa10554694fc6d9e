"""The one door to Stripe.

- Configured from settings on every call (STRIPE_SECRET_KEY, STRIPE_API_BASE — a localstripe
  address in the tests —, STRIPE_TIMEOUT), with stripe-python's own network retries off:
  our step records and the clock's retry loop decide when to try again.
- Money crosses here as integer fen in currency "cny"; callers pass and get Decimal yuan.
- Every POST carries the idempotency key the caller derived from its own record.
- Stripe's errors become three kinds: `ProviderUnavailable` (unreachable, timeout, rate
  limit, 5xx: retry later), `PaymentRefused` (the card or the bank said no, or wants the
  customer to authenticate), `StripeRejected` (anything else: a bug or a configuration error).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings

CURRENCY = "cny"
FEN = Decimal("0.01")
# The largest amount Stripe takes in one CNY payment (its per-currency maximum, 8 digits of fen).
MAX_AMOUNT = Decimal("999999.99")
# stripe-python logs every request at INFO; our steps log what matters.
logging.getLogger("stripe").setLevel(logging.WARNING)


class ProviderUnavailable(Exception):
    """Stripe could not be reached or did not answer in time; nothing is known to have happened."""


class PaymentRefused(Exception):
    def __init__(self, code: str, message: str, payment_intent: Intent | None = None):
        super().__init__(message)
        self.code = code or "card_declined"
        self.message = message
        self.payment_intent = payment_intent


class StripeRejected(Exception):
    def __init__(self, code: str, message: str, http_status: int | None = None):
        super().__init__(message)
        self.code = code or "stripe_error"
        self.message = message
        self.http_status = http_status


def to_fen(amount: Decimal) -> int:
    if amount != amount.quantize(FEN):
        raise ValueError(f"{amount} is not a whole number of fen")
    return int(amount.quantize(FEN) * 100)


def from_fen(value: Any) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(int(value)) / 100).quantize(FEN)


def _plain(obj: Any) -> Any:
    """A StripeObject as plain dicts and lists (the same shape from Stripe and localstripe)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def _get(obj: Any, name: str, default: Any = None) -> Any:
    obj = _plain(obj)
    if not isinstance(obj, dict):
        return default
    value = obj.get(name, default)
    return default if value is None else value


@dataclass(frozen=True)
class Intent:
    """What we read from a PaymentIntent, the same from Stripe and from localstripe."""

    id: str
    status: str
    amount: Decimal
    amount_received: Decimal | None
    client_secret: str
    payment_method: str
    error_code: str
    error_message: str
    metadata: dict = field(default_factory=dict)

    @property
    def needs_authentication(self) -> bool:
        """The bank wants the customer to authenticate (3-D Secure) before the money moves."""
        if self.status == "requires_action":
            return True
        return self.status == "requires_payment_method" and self.error_code == "authentication_required"


def _intent(obj: Any) -> Intent:
    obj = _plain(obj)
    error = _get(obj, "last_payment_error") or {}
    payment_method = _get(obj, "payment_method") or ""
    if not isinstance(payment_method, str):
        payment_method = _get(payment_method, "id", "")
    metadata = _get(obj, "metadata") or {}
    return Intent(
        id=_get(obj, "id"),
        status=_get(obj, "status") or "",
        amount=from_fen(_get(obj, "amount") or 0),
        amount_received=from_fen(_get(obj, "amount_received")),
        client_secret=_get(obj, "client_secret") or "",
        payment_method=payment_method,
        error_code=_get(error, "code") or "",
        error_message=_get(error, "message") or "",
        metadata={str(k): str(v) for k, v in metadata.items()},
    )


@functools.lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str, timeout: float) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def client() -> stripe.StripeClient:
    return _client_for(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE.rstrip("/"), settings.STRIPE_TIMEOUT)


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.CardError as exc:
        error = (exc.json_body or {}).get("error", {}) if isinstance(exc.json_body, dict) else {}
        intent = error.get("payment_intent")
        raise PaymentRefused(
            exc.code or error.get("code") or "card_declined",
            exc.user_message or str(exc),
            _intent(intent) if intent else None,
        ) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise ProviderUnavailable(str(exc)) from exc
    except stripe.StripeError as exc:
        if exc.http_status is None or exc.http_status >= 500:
            raise ProviderUnavailable(str(exc)) from exc
        raise StripeRejected(exc.code or "", exc.user_message or str(exc), exc.http_status) from exc


def _options(key: str) -> dict:
    return {"idempotency_key": key}


# --- Customers and cards --------------------------------------------------------------------


def customer_create(*, name: str, company_id: int, key: str) -> str:
    customer = _call(
        client().v1.customers.create,
        params={"name": name, "metadata": {"company_id": str(company_id)}},
        options=_options(key),
    )
    return customer.id


def setup_intent_create(*, customer: str, company_id: int, key: str) -> tuple[str, str]:
    intent = _call(
        client().v1.setup_intents.create,
        params={
            "customer": customer,
            "usage": "off_session",
            "payment_method_types": ["card"],
            "metadata": {"company_id": str(company_id)},
        },
        options=_options(key),
    )
    return intent.id, intent.client_secret


def setup_intent_retrieve(setup_intent_id: str) -> dict:
    intent = _call(client().v1.setup_intents.retrieve, setup_intent_id)
    payment_method = _get(intent, "payment_method") or ""
    if not isinstance(payment_method, str):
        payment_method = _get(payment_method, "id", "")
    return {
        "id": intent.id,
        "status": _get(intent, "status"),
        "customer": _get(intent, "customer") or "",
        "payment_method": payment_method,
    }


def payment_method_retrieve(payment_method_id: str) -> dict:
    method = _call(client().v1.payment_methods.retrieve, payment_method_id)
    card = _get(method, "card") or {}
    return {
        "id": method.id,
        "customer": _get(method, "customer") or "",
        "brand": str(_get(card, "brand") or ""),
        "last4": str(_get(card, "last4") or ""),
        "exp_month": int(_get(card, "exp_month") or 0),
        "exp_year": int(_get(card, "exp_year") or 0),
    }


def payment_method_attach(*, payment_method: str, customer: str, key: str) -> None:
    _call(client().v1.payment_methods.attach, payment_method, params={"customer": customer}, options=_options(key))


# --- PaymentIntents ---------------------------------------------------------------------------


def intent_create(
    *, amount: Decimal, customer: str, payment_method: str, manual_capture: bool, metadata: dict, key: str
) -> Intent:
    """Off-session, confirmed at once with the saved card: a hold (manual capture) or a charge."""
    params: dict[str, Any] = {
        "amount": to_fen(amount),
        "currency": CURRENCY,
        "customer": customer,
        "payment_method": payment_method,
        "confirm": True,
        "off_session": True,
        "metadata": {"step": key, **{k: str(v) for k, v in metadata.items()}},
    }
    if manual_capture:
        params["capture_method"] = "manual"
    return _intent(_call(client().v1.payment_intents.create, params=params, options=_options(key)))


def intent_find(*, customer: str, step_key: str) -> Intent | None:
    """The PaymentIntent an earlier call of our step `step_key` made, if Stripe has one (its
    metadata names the step). Asked before a retried create: a call that timed out may have
    reached Stripe after all."""
    try:
        page = _call(client().v1.payment_intents.list, params={"customer": customer, "limit": 100})
    except StripeRejected as exc:
        if exc.http_status != 400:
            raise
        # localstripe lists without filters only.
        page = _call(client().v1.payment_intents.list, params={"limit": 100})
    for item in _get(page, "data") or []:
        found = _intent(item)
        if _get(item, "customer") == customer and found.metadata.get("step") == step_key:
            return found
    return None


def intent_retrieve(payment_intent_id: str) -> Intent:
    return _intent(_call(client().v1.payment_intents.retrieve, payment_intent_id))


def intent_cancel(payment_intent_id: str, *, key: str) -> Intent:
    return _intent(_call(client().v1.payment_intents.cancel, payment_intent_id, options=_options(key)))


def intent_capture(payment_intent_id: str, *, amount: Decimal, key: str) -> Intent:
    return _intent(
        _call(
            client().v1.payment_intents.capture,
            payment_intent_id,
            params={"amount_to_capture": to_fen(amount)},
            options=_options(key),
        )
    )


def refund_create(*, payment_intent: str, amount: Decimal, metadata: dict, key: str) -> tuple[str, str]:
    refund = _call(
        client().v1.refunds.create,
        params={
            "payment_intent": payment_intent,
            "amount": to_fen(amount),
            "metadata": {k: str(v) for k, v in metadata.items()},
        },
        options=_options(key),
    )
    return refund.id, _get(refund, "status") or ""


def refund_find(*, payment_intent: str, step_key: str) -> tuple[str, Decimal] | None:
    """A refund of `payment_intent` made for our step `step_key` (its metadata says so), if any:
    re-read before refunding, so a retried step never refunds twice."""
    refunds = _call(client().v1.refunds.list, params={"payment_intent": payment_intent, "limit": 100})
    for refund in _get(refunds, "data") or []:
        if (_get(refund, "metadata") or {}).get("step") == step_key and _get(refund, "status") != "failed":
            return _get(refund, "id"), from_fen(_get(refund, "amount"))
    return None


# --- Webhooks ----------------------------------------------------------------------------------


def webhook_verify(payload: bytes, signature: str | None) -> None:
    """Raise stripe.SignatureVerificationError unless `signature` signs the raw `payload`."""
    stripe.WebhookSignature.verify_header(
        payload.decode("utf-8"), signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300
    )
