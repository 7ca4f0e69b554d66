"""Missions in admin: every save and action goes through the services."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from brain.errors import DomainError
from missions import services
from missions.models import Mission, MissionLog, MissionStatus


class MissionLogInline(admin.TabularInline):
    """The log, read-only, newest last: entries are appended, never edited."""

    model = MissionLog
    fields = ["timestamp", "level", "message", "data"]
    readonly_fields = fields
    ordering = ["id"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MissionAdminForm(forms.ModelForm):
    class Meta:
        model = Mission
        fields = ["name", "description", "data", "priority", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        status = self.fields.get("status")
        if status is not None and not self.instance._state.adding:
            # Offer the statuses the mission can move to now; the service decides.
            current = self.instance.status
            offered = [current, *self.instance.allowed_transitions]
            status.choices = [(value, MissionStatus(value).label) for value in offered]
            status.error_messages["invalid_choice"] = (
                f"Cannot change status from {current} to %(value)s; allowed: "
                f"{', '.join(offered[1:]) or 'none'}."
            )

    def clean_data(self):
        """A JSON object, as over REST; left empty, ``{}``."""
        data = self.cleaned_data.get("data")
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise forms.ValidationError("Enter a JSON object, e.g. {}.")
        return data


def _transition_action(target: str, label: str):
    @admin.action(description=f"{label} selected missions", permissions=["change"])
    def action(modeladmin, request, queryset):
        done, refused = 0, []
        for mission_id in queryset.values_list("id", flat=True):
            try:
                services.mission_set_status(mission_id=mission_id, status=target)
                done += 1
            except DomainError as exc:
                refused.append(exc.detail)
        if done:
            modeladmin.message_user(request, f"{label}: {done} mission(s) → {target}.")
        for detail in refused:
            modeladmin.message_user(
                request, f"{label} refused: {detail}", messages.ERROR
            )

    action.__name__ = f"mission_{label.lower()}"
    return action


@admin.register(Mission)
class MissionAdmin(admin.ModelAdmin):
    form = MissionAdminForm
    list_display = ["name", "status", "priority", "assigned_agent", "created_at"]
    list_filter = ["status", "priority"]
    search_fields = ["name", "=id"]
    ordering = ["-created_at"]
    inlines = [MissionLogInline]
    actions = [
        _transition_action(MissionStatus.RUNNING, "Start"),
        _transition_action(MissionStatus.COMPLETED, "Complete"),
        _transition_action(MissionStatus.FAILED, "Fail"),
        _transition_action(MissionStatus.CANCELLED, "Cancel"),
    ]

    def get_readonly_fields(self, request, obj=None):
        base = ["id", "assigned_agent", "created_at", "updated_at"]
        if obj is None:
            return base
        # Only the status changes after creation, along the allowed transitions.
        return [*base, "name", "description", "data", "priority"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "description", "data", "priority"]
        return [
            "id",
            "name",
            "description",
            "data",
            "priority",
            "status",
            "assigned_agent",
            "created_at",
            "updated_at",
        ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A change the service refuses after the form passed (another client moved
        the mission on meanwhile) is rolled back and shown as an error."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.mission_create(
                name=obj.name,
                description=obj.description,
                data=obj.data,
                priority=obj.priority,
            )
            obj.pk = created.pk
            obj._state.adding = False
        elif "status" in form.changed_data:
            services.mission_set_status(mission_id=obj.pk, status=obj.status)

    def has_delete_permission(self, request, obj=None):
        return False
