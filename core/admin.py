from django.contrib import admin

from core.models import AuditEntry, Notification, OutboundEmail


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


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """What was sent, what waits, and what failed (with the mail server's error)."""

    list_display = ["created_at", "to", "subject", "sent_at", "attempts", "send_after"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["to", "subject"]
    readonly_fields = ["to", "subject", "body", "created_at", "sent_at", "attempts", "last_error"]

    def has_add_permission(self, request):
        return False
