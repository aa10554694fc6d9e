"""Saving a card for off-session use: a SetupIntent confirmed in the browser by Stripe.js
(`confirmCardSetup` with a Card Element), then recorded here as the company's saved card."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company
from accounts.services import require_verified_company
from core.errors import conflict, not_found
from core.services import audit_record
from payments import stripe_client
from payments.models import CardSetup, PaymentProfile, SavedCard
from payments.services.common import provider_unavailable
from payments.stripe_client import ProviderUnavailable, StripeRejected


def _provider_error(exc: StripeRejected):
    return conflict("payment_provider_error", _("The payment provider refused the request: %(m)s") % {"m": exc.message})


def payment_profile_ensure(*, company: Company) -> PaymentProfile:
    """The company's Stripe customer, created once (idempotency key from our profile row)."""
    with transaction.atomic():
        profile, _created = PaymentProfile.objects.select_for_update().get_or_create(company=company)
    if profile.stripe_customer_id:
        return profile
    try:
        customer = stripe_client.customer_create(
            name=company.name, company_id=company.pk, key=f"customer-{company.pk}-p{profile.pk}"
        )
    except ProviderUnavailable:
        raise provider_unavailable() from None
    except StripeRejected as exc:
        raise _provider_error(exc) from None
    PaymentProfile.objects.filter(pk=profile.pk, stripe_customer_id="").update(stripe_customer_id=customer)
    profile.refresh_from_db()
    return profile


def card_setup_start(*, actor: Any) -> tuple[CardSetup, str]:
    """A SetupIntent (usage=off_session) for the actor's processor company, and its client
    secret for the browser. The setup is recorded first; its id keys the Stripe call."""
    company = require_verified_company(actor, role=Company.Role.PROCESSOR)
    profile = payment_profile_ensure(company=company)
    setup = CardSetup.objects.create(company=company, created_by=actor)
    try:
        intent_id, client_secret = stripe_client.setup_intent_create(
            customer=profile.stripe_customer_id, company_id=company.pk, key=f"card-setup-{setup.pk}"
        )
    except ProviderUnavailable:
        raise provider_unavailable() from None
    except StripeRejected as exc:
        CardSetup.objects.filter(pk=setup.pk).update(status=CardSetup.Status.FAILED)
        raise _provider_error(exc) from None
    CardSetup.objects.filter(pk=setup.pk).update(stripe_setup_intent_id=intent_id, status=CardSetup.Status.OPEN)
    setup.refresh_from_db()
    return setup, client_secret


def card_setup_complete(*, actor: Any | None, setup_intent_id: str) -> SavedCard:
    """Record the card a confirmed SetupIntent saved. Called by the browser after
    confirmCardSetup (actor: a member of the company) and by the setup_intent.succeeded
    webhook (actor None). Only SetupIntents we created for that company count."""
    setup = CardSetup.objects.select_related("company").filter(stripe_setup_intent_id=setup_intent_id).first()
    if actor is not None:
        company = require_verified_company(actor, role=Company.Role.PROCESSOR)
        if setup is None or setup.company_id != company.pk:
            raise not_found(_("No such card setup."))
    elif setup is None:
        raise not_found(_("No such card setup."))
    if setup.status == CardSetup.Status.SUCCEEDED and setup.card_id:
        return setup.card
    profile = PaymentProfile.objects.get(company_id=setup.company_id)
    try:
        intent = stripe_client.setup_intent_retrieve(setup_intent_id)
        if intent["status"] != "succeeded" or not intent["payment_method"]:
            if intent["status"] == "canceled":
                CardSetup.objects.filter(pk=setup.pk).update(status=CardSetup.Status.FAILED)
            raise conflict(
                "card_setup_incomplete",
                _("The card has not been confirmed (%(status)s). Enter it again.") % {"status": intent["status"]},
            )
        if intent["customer"] and intent["customer"] != profile.stripe_customer_id:
            raise not_found(_("No such card setup."))
        method = stripe_client.payment_method_retrieve(intent["payment_method"])
        if method["customer"] != profile.stripe_customer_id:
            stripe_client.payment_method_attach(
                payment_method=method["id"], customer=profile.stripe_customer_id, key=f"card-attach-{setup.pk}"
            )
    except ProviderUnavailable:
        raise provider_unavailable() from None
    except StripeRejected as exc:
        raise _provider_error(exc) from None
    with transaction.atomic():
        setup = CardSetup.objects.select_for_update().get(pk=setup.pk)
        card, created = SavedCard.objects.get_or_create(
            stripe_payment_method_id=method["id"],
            defaults={
                "company_id": setup.company_id,
                "brand": method["brand"],
                "last4": method["last4"],
                "exp_month": method["exp_month"],
                "exp_year": method["exp_year"],
            },
        )
        setup.status, setup.card, setup.completed_at = CardSetup.Status.SUCCEEDED, card, timezone.now()
        setup.save(update_fields=["status", "card", "completed_at"])
        if created:
            audit_record(
                actor=actor,
                action="payments.card_saved",
                target_type="company",
                target_id=setup.company_id,
                target_label=setup.company.name,
                after={"brand": card.brand, "last4": card.last4},
            )
    return card
