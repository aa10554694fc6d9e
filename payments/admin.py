"""Django admin: read-only views of the money records. Every change goes through
payments.services (the /payments/desk/ page and the API call them); nothing here edits a row
that carries money."""

from django.contrib import admin

from payments.models import (
    CompanyStanding,
    DepositHold,
    LedgerEntry,
    PaymentStep,
    Payout,
    SavedCard,
    Settlement,
    Strike,
    StripeEvent,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DepositHold)
class DepositHoldAdmin(ReadOnlyAdmin):
    list_display = ["lot", "company", "amount", "status", "attempt", "expires_at", "stripe_payment_intent_id"]
    list_filter = ["status"]
    search_fields = ["stripe_payment_intent_id", "company__name", "lot__code"]


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ["lot", "buyer", "status", "gross", "deposit_captured", "balance_paid", "refunded", "payment_due_at"]
    list_filter = ["status"]
    search_fields = ["lot__code", "buyer__name"]


@admin.register(PaymentStep)
class PaymentStepAdmin(ReadOnlyAdmin):
    list_display = ["key", "kind", "status", "amount", "attempts", "next_attempt_at", "outcome"]
    list_filter = ["status", "kind"]
    search_fields = ["key", "payment_intent_id", "result_id"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "lot", "company", "amount", "stripe_id"]
    list_filter = ["kind"]
    search_fields = ["key", "stripe_id", "lot__code"]


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["company", "lot", "kind", "amount", "status", "paid_at", "reference"]
    list_filter = ["status", "kind"]


@admin.register(Strike)
class StrikeAdmin(ReadOnlyAdmin):
    list_display = ["company", "lot", "created_at", "reversed_at", "reason"]
    list_filter = [("reversed_at", admin.EmptyFieldListFilter)]
    search_fields = ["company__name"]


@admin.register(CompanyStanding)
class CompanyStandingAdmin(ReadOnlyAdmin):
    list_display = ["company", "banned_until", "updated_at"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "object_id", "outcome", "received_at"]
    search_fields = ["event_id", "object_id"]


@admin.register(SavedCard)
class SavedCardAdmin(ReadOnlyAdmin):
    list_display = ["company", "brand", "last4", "exp_month", "exp_year", "created_at", "removed_at"]
