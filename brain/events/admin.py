from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import QuerySet
from django.utils.html import format_html

from brain.events import registered_types
from brain.events.filters import SUBJECT
from brain.events.models import EventLog

NO_TARGET = "none"


class TargetKindFilter(admin.SimpleListFilter):
    """Narrow by the kind of subject an event targets: ``robot_…``, ``mission_…``.

    Targets are one per entity, far too many for a list of values; their kinds are
    few and come from the declared target rules, so listing them costs no query.
    One subject's events are a click on its target in the list (``?target=…``).
    """

    title = "target"
    parameter_name = "target_kind"

    def lookups(self, request, model_admin):
        prefixes = {
            spec.target.partition("{")[0]
            for spec in registered_types().values()
            if spec.target and not spec.target.startswith("{")
        }
        return [
            *((prefix, f"{prefix}…") for prefix in sorted(prefixes)),
            (NO_TARGET, "none (broadcast)"),
        ]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if value == NO_TARGET:
            return queryset.filter(target__isnull=True)
        return queryset.filter(target__startswith=value)


@admin.register(EventLog)
class EventLogAdmin(admin.ModelAdmin):
    """The log is read-only: events are written by ``emit()`` alone."""

    list_display = ["seq", "type", "source", "target_link", "occurred_at", "actor"]
    list_filter = ["type", "source", TargetKindFilter]
    search_fields = ["target", "=event_id"]
    date_hierarchy = "occurred_at"
    ordering = ["-seq"]
    readonly_fields = [f.name for f in EventLog._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        """A subject (``mission_<id>``, ``robot_<id>``, ...) finds every event
        about it; anything else searches targets and event ids."""
        term = search_term.strip()
        if SUBJECT.match(term):
            return queryset.filter(subjects__has=term), False
        return super().get_search_results(request, queryset, search_term)

    def get_queryset(self, request):
        # A row without a seq is being numbered, a moment after its commit.
        return super().get_queryset(request).filter(seq__isnull=False)

    @admin.display(description="target", ordering="target")
    def target_link(self, obj: EventLog) -> str:
        if not obj.target:
            return "—"
        query = urlencode({"target": obj.target})
        return format_html('<a href="?{}">{}</a>', query, obj.target)

    @admin.display(description="actor")
    def actor(self, obj: EventLog) -> str:
        return obj.meta.get("actor") or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
