from django.contrib import admin

from core.models import AuditEntry, Notification


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only (the database refuses updates too)."""

    list_display = ["at", "actor_name", "action", "target_type", "target_id", "target_label", "reason"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_name", "target_label", "reason", "target_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "title", "read_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "title"]
    raw_id_fields = ["user"]
