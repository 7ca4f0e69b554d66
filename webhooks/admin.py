"""Webhooks in admin: endpoints and their delivery console; writes go through the
services."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from brain.errors import DomainError
from webhooks import services
from webhooks.models import Attempt, Endpoint


class EndpointAdminForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = Endpoint
        fields = ["url", "description", "types", "subject", "format", "enabled"]

    def clean_types(self):
        types = self.cleaned_data.get("types")
        if types in (None, ""):
            return []
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise forms.ValidationError('Enter a JSON list, e.g. ["mission.*"].')
        return types


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointAdminForm
    list_display = ["url", "state", "enabled", "cursor", "failures", "owner"]
    list_filter = ["state", "enabled", "format"]
    search_fields = ["url", "description", "=id"]
    readonly_fields = [
        "id",
        "owner",
        "state",
        "masked_secret",
        "cursor",
        "failing_seq",
        "failures",
        "first_failure_at",
        "next_attempt_at",
        "created_at",
        "updated_at",
        "console",
    ]
    actions = ["resume", "rotate_secret"]

    @admin.display(description="secret")
    def masked_secret(self, obj):
        return f"{obj.secret[:10]}…" if obj.secret else ""

    @admin.display(description="delivery console")
    def console(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:webhooks_attempt_changelist")
        return format_html(
            '<a href="{}?endpoint__id__exact={}">{} attempts</a>',
            url,
            obj.pk,
            obj.attempts.count(),
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data.get(name) for name in services.EDITABLE}
        if not change:
            created = services.endpoint_create(owner=request.user, **values)
            obj.pk = created.pk
            obj._state.adding = False
            self.message_user(
                request,
                f"Signing secret (shown once): {created.secret}",
                messages.WARNING,
            )
        else:
            changed = {k: v for k, v in values.items() if k in form.changed_data}
            services.endpoint_update(endpoint_id=obj.pk, **changed)

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for endpoint_id in queryset.values_list("id", flat=True):
            services.endpoint_delete(endpoint_id=endpoint_id)

    @admin.action(description="Resume selected endpoints", permissions=["change"])
    def resume(self, request, queryset):
        for endpoint_id in queryset.values_list("id", flat=True):
            services.endpoint_update(endpoint_id=endpoint_id, enabled=True)
        self.message_user(request, "Resumed; delivery continues from each cursor.")

    @admin.action(description="Rotate the signing secret", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for endpoint_id in queryset.values_list("id", flat=True):
            endpoint = services.endpoint_rotate_secret(endpoint_id=endpoint_id)
            self.message_user(
                request,
                f"{endpoint.url}: new secret (shown once): {endpoint.secret}",
                messages.WARNING,
            )


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    """The delivery console: every attempt; replay the selected events."""

    list_display = [
        "started_at",
        "endpoint",
        "seq",
        "event_type",
        "number",
        "status_code",
        "outcome",
        "latency_ms",
    ]
    list_filter = ["outcome", "event_type", "endpoint"]
    search_fields = ["=event_id", "=seq", "endpoint__url"]
    list_select_related = ["endpoint"]
    actions = ["replay"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Attempt._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_replay_permission(self, request):
        return request.user.has_perm("webhooks.change_endpoint")

    @admin.action(
        description="Replay these events to their endpoints",
        permissions=["replay"],
    )
    def replay(self, request, queryset):
        count = 0
        for endpoint_id, seq in queryset.values_list("endpoint_id", "seq").distinct():
            services.endpoint_replay(
                endpoint_id=endpoint_id,
                after=seq - 1,
                until=seq,
                requested_by=request.user.get_username(),
            )
            count += 1
        self.message_user(request, f"{count} event(s) queued for replay.")
