from brain.api.routes import route
from missions import views

urlpatterns = [
    *route("missions", views.MissionListCreateView.as_view(), name="mission-list"),
    *route(
        "missions/health", views.MissionsHealthView.as_view(), name="missions-health"
    ),
    *route("missions/stats", views.MissionStatsView.as_view(), name="mission-stats"),
    # ``missions/claim`` is the supervisor's (supervisor/urls.py, included first):
    # only it knows whether an agent may take work.
    *route(
        "missions/<str:mission_id>",
        views.MissionDetailView.as_view(),
        name="mission-detail",
    ),
    *route(
        "missions/<str:mission_id>/status",
        views.MissionStatusView.as_view(),
        name="mission-status",
    ),
    *route(
        "missions/<str:mission_id>/history",
        views.MissionHistoryView.as_view(),
        name="mission-history",
    ),
    *route(
        "missions/<str:mission_id>/log",
        views.MissionLogView.as_view(),
        name="mission-log",
    ),
]
