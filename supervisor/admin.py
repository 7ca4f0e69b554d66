"""Agents in admin: saves, deletes and the control actions go through the services."""

from django.contrib import admin, messages

from brain.errors import DomainError
from supervisor import services
from supervisor.models import Agent, AgentState


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


def _control_action(action: str, label: str):
    @admin.action(description=f"{label} selected agents", permissions=["change"])
    def run(modeladmin, request, queryset):
        done, refused = 0, []
        reason = f"requested in admin by {request.user.get_username()}"
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
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_effective_state()

    @admin.display(description="current mission")
    def current_mission(self, agent: Agent):
        return agent.current_mission_id or "—"

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
            "last_heartbeat",
            "current_mission",
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
            "last_heartbeat",
            "current_mission",
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
