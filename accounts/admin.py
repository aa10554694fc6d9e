"""Django admin. Status changes of companies go through the services (admin actions), never
through a plain edit of the `status` field."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import Company, CompanyDocument, User
from core.errors import DomainError


class DocumentInline(admin.TabularInline):
    model = CompanyDocument
    extra = 0
    fields = ["kind", "licence_no", "expires_on", "content_type", "size", "uploaded_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


def _run(modeladmin, request, queryset, action, **kwargs):
    for company in queryset:
        try:
            action(actor=request.user, company_id=company.pk, **kwargs)
        except DomainError as exc:
            modeladmin.message_user(request, f"{company}: {exc.detail}", messages.ERROR)


@admin.action(description=_("Approve selected pending companies"))
def approve(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.company_review, decision="approve")


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "credit_code", "role", "status", "district", "created_at"]
    list_filter = ["status", "role", "district"]
    search_fields = ["name", "credit_code"]
    # Identity and status change through the services (review, company_update) only.
    readonly_fields = ["name", "credit_code", "role", "status", "status_reason", "reviewed_at", "created_at"]
    inlines = [DocumentInline]
    actions = [approve]


@admin.register(CompanyDocument)
class CompanyDocumentAdmin(admin.ModelAdmin):
    list_display = ["company", "kind", "licence_no", "expires_on", "content_type", "size", "uploaded_at"]
    list_filter = ["kind"]
    search_fields = ["company__name", "licence_no"]
    filter_horizontal = ["categories"]
    readonly_fields = ["file", "content_type", "size", "original_name", "uploaded_by", "uploaded_at"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "company", "is_active", "is_staff"]
    list_select_related = ["company"]
    fieldsets = BaseUserAdmin.fieldsets + ((_("Company"), {"fields": ("company", "phone")}),)
    raw_id_fields = ["company"]
