"""Django admin for the lots domain. Lot status changes go through the services (actions);
the admin's form shows status fields read-only."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from recycling import services
from recycling.models import Category, Lot, LotPhoto, WantedMatch, WantedRequest


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "parent", "unit", "hazardous", "active", "sort"]
    list_filter = ["hazardous", "active", "unit", "parent"]
    search_fields = ["code", "name", "name_en"]
    list_editable = ["active", "sort"]


class PhotoInline(admin.TabularInline):
    model = LotPhoto
    extra = 0
    fields = ["thumbnail", "width", "height", "position"]
    readonly_fields = ["thumbnail", "width", "height"]


@admin.action(description=_("Approve selected lots pending review"))
def approve_lots(modeladmin, request, queryset):
    for lot in queryset:
        try:
            services.lot_review(actor=request.user, lot_id=lot.pk, decision="approve")
        except DomainError as exc:
            modeladmin.message_user(request, f"{lot}: {exc.detail}", messages.ERROR)


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "seller", "category", "quantity", "unit", "status", "ends_at", "current_price"]
    list_filter = ["status", "format", "district", "category__parent"]
    search_fields = ["code", "title", "seller__name"]
    list_select_related = ["seller", "category"]
    readonly_fields = [
        "code",
        "status",
        "current_price",
        "bid_count",
        "seq",
        "winner",
        "final_price",
        "contact_warning",
        "submitted_at",
        "published_at",
        "closed_at",
        "search_text",
    ]
    raw_id_fields = ["seller", "created_by", "winner"]
    inlines = [PhotoInline]
    actions = [approve_lots]
    date_hierarchy = "ends_at"


@admin.register(WantedRequest)
class WantedRequestAdmin(admin.ModelAdmin):
    list_display = [
        "company",
        "category",
        "quantity_min",
        "quantity_max",
        "unit",
        "max_unit_price",
        "valid_until",
        "status",
    ]
    list_filter = ["status", "category__parent"]
    raw_id_fields = ["company", "created_by"]


@admin.register(WantedMatch)
class WantedMatchAdmin(admin.ModelAdmin):
    list_display = ["lot", "company", "wanted", "created_at"]
    raw_id_fields = ["lot", "company", "wanted"]
