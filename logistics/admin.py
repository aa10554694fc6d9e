"""Django admin for logistics: fleets are editable; bookings, steps and weighings are read-only
here (their status moves only through logistics.services)."""

from django.contrib import admin

from logistics.models import Booking, BookingStep, Deduction, Quote, Vehicle, Weighing


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["plate", "carrier", "type", "capacity_t", "hazardous_permit_until", "rate_per_km", "active"]
    list_filter = ["type", "active"]
    search_fields = ["plate", "carrier__name"]


class StepInline(admin.TabularInline):
    model = BookingStep
    extra = 0
    can_delete = False
    fields = ["status", "at", "company", "latitude", "longitude", "note", "event_seq"]
    readonly_fields = fields


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ["pk", "lot", "carrier", "requester", "status", "slot_start", "price"]
    list_filter = ["status", "vehicle_type"]
    search_fields = ["lot__code", "carrier__name", "requester__name"]
    inlines = [StepInline]


class DeductionInline(admin.TabularInline):
    model = Deduction
    extra = 0
    can_delete = False
    fields = ["kind", "percent", "quantity", "note", "created_at"]
    readonly_fields = fields


@admin.register(Weighing)
class WeighingAdmin(ReadOnlyAdmin):
    list_display = ["ticket_no", "booking", "net", "deviation", "status", "net_payable", "dispute_until"]
    list_filter = ["status"]
    inlines = [DeductionInline]


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = ["pk", "lot", "carrier", "vehicle_type", "trips", "distance_km", "price", "expires_at", "used_at"]
