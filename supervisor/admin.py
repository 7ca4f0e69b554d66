"""Agents in admin: saves, deletes and the control actions go through the services."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from brain.access.admin_actions import token_actions
from brain.access.machines import machine_token_exists
from brain.errors import DomainError
from supervisor import services
from supervisor.models import Agent, AgentControl, AgentState


class EffectiveStateFilter(admin.SimpleListFilter):
    """By the state an agent counts as, as everywhere else it is shown."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return AgentState.choices

    def queryset(self, request, queryset):
        if self.value() in AgentState.values:
            return queryset.filter(effective_state=self.value())
        return queryset


def _confirm_kill(modeladmin, request, queryset):
    """Kill asks first: a page listing the agents and what a kill does."""
    agents = list(
        queryset.annotate(held=Count("missions", filter=Q(missions__status="RUNNING")))
    )
    return TemplateResponse(
        request,
        "admin/supervisor/agent/confirm_kill.html",
        {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "agents": agents,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "title": "Kill agents?",
        },
    )


def _control_action(action: str, label: str):
    @admin.action(description=f"{label} selected agents", permissions=["change"])
    def run(modeladmin, request, queryset):
        if action == "kill" and "confirm" not in request.POST:
            return _confirm_kill(modeladmin, request, queryset)
        done, refused = 0, []
        given = request.POST.get("reason", "").strip() if action == "kill" else ""
        reason = given or f"requested in admin by {request.user.get_username()}"
        for agent_id in queryset.values_list("agent_id", flat=True):
            try:
                services.agent_control(agent_id=agent_id, action=action, reason=reason)
                done += 1
            except DomainError as exc:
                refused.append(exc.detail)
        if done:
            modeladmin.message_user(
                request, f"{label}: {done} agent(s).", messages.SUCCESS
            )
        for detail in refused:
            modeladmin.message_user(
                request, f"{label} refused: {detail}", messages.ERROR
            )

    run.__name__ = f"agent_{action}"
    return run


class AgentControlInline(admin.TabularInline):
    """The control actions taken on the agent, newest first, and who took them."""

    model = AgentControl
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["at", "action", "actor", "reason", "old_state", "new_state"]
    readonly_fields = fields
    ordering = ["-at", "-pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = [
        "agent_id",
        "name",
        "role",
        "shown_state",
        "last_heartbeat",
        "current_mission",
    ]
    list_filter = [EffectiveStateFilter, "role"]
    search_fields = ["=agent_id", "name", "role"]
    ordering = ["agent_id"]
    actions = [
        _control_action("pause", "Pause"),
        _control_action("resume", "Resume"),
        _control_action("kill", "Kill"),
        _control_action("restart", "Restart"),
        *token_actions(
            "agent",
            issue=lambda ident: services.agent_token_issue(agent_id=ident),
            revoke=lambda ident: services.agent_token_revoke(agent_id=ident),
        ),
    ]
    inlines = [AgentControlInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_effective_state()

    @admin.display(description="current mission")
    def current_mission(self, agent: Agent):
        mission_id = agent.current_mission_id
        if not mission_id:
            return "—"
        url = reverse("admin:missions_mission_change", args=[mission_id])
        return format_html('<a href="{}">{}</a>', url, mission_id)

    @admin.display(description="missions held")
    def held_missions(self, agent: Agent):
        held = list(agent.missions.filter(status="RUNNING").values_list("pk", "name"))
        if not held:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:missions_mission_change", args=[pk]), name)
                for pk, name in held
            ),
        )

    @admin.display(description="own token")
    def has_token(self, agent: Agent) -> str:
        issued = machine_token_exists(kind="agent", ident=agent.agent_id)
        return "issued" if issued else "none"

    @admin.display(description="state", ordering="effective_state")
    def shown_state(self, agent: Agent) -> str:
        return agent.effective_state

    def get_fields(self, request, obj=None):
        editable = ["name", "role", "capabilities", "meta"]
        if obj is None:
            return ["agent_id", *editable]
        return [
            "agent_id",
            *editable,
            "shown_state",
            "hold",
            "last_heartbeat",
            "held_missions",
            "has_token",
            "started_at",
            "created_at",
            "updated_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # State, heartbeat and mission change through heartbeats and the actions.
        return [
            "agent_id",
            "shown_state",
            "hold",
            "last_heartbeat",
            "held_missions",
            "has_token",
            "started_at",
            "created_at",
            "updated_at",
        ]

    def save_model(self, request, obj, form, change):
        services.agent_register(
            agent_id=obj.agent_id,
            name=obj.name,
            role=obj.role,
            capabilities=obj.capabilities,
            meta=obj.meta,
        )

    def delete_model(self, request, obj):
        services.agent_delete(agent_id=obj.agent_id)

    def delete_queryset(self, request, queryset):
        for agent_id in queryset.values_list("agent_id", flat=True):
            services.agent_delete(agent_id=agent_id)
