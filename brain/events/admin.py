from django.contrib import admin

from brain.events.models import EventLog


@admin.register(EventLog)
class EventLogAdmin(admin.ModelAdmin):
    """The log is read-only: events are written by ``emit()`` alone."""

    list_display = ["seq", "type", "source", "target", "occurred_at", "actor"]
    list_filter = ["type", "source"]
    search_fields = ["target", "=event_id", "mission_id", "robot_id", "agent_id"]
    date_hierarchy = "occurred_at"
    ordering = ["-seq"]
    readonly_fields = [f.name for f in EventLog._meta.fields]

    @admin.display(description="actor")
    def actor(self, obj: EventLog) -> str:
        return obj.meta.get("actor") or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
