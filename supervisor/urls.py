from brain.api.routes import route
from supervisor import views

urlpatterns = [
    *route(
        "supervisor/health",
        views.SupervisorHealthView.as_view(),
        name="supervisor-health",
    ),
    *route(
        "supervisor/status",
        views.SupervisorStatusView.as_view(),
        name="supervisor-status",
    ),
    *route(
        "supervisor/agents",
        views.AgentListRegisterView.as_view(),
        name="supervisor-agent-list",
    ),
    *route(
        "supervisor/agents/<str:agent_id>",
        views.AgentDetailView.as_view(),
        name="supervisor-agent-detail",
    ),
    *route(
        "supervisor/agents/<str:agent_id>/token",
        views.AgentTokenView.as_view(),
        name="supervisor-agent-token",
    ),
    *route("missions/claim", views.MissionClaimView.as_view(), name="mission-claim"),
    *route(
        "supervisor/agents/<str:agent_id>/heartbeat",
        views.AgentHeartbeatView.as_view(),
        name="supervisor-agent-heartbeat",
    ),
    *route(
        "supervisor/control",
        views.AgentControlView.as_view(),
        name="supervisor-control",
    ),
]
