from brain.api.routes import route
from hardware import views

urlpatterns = [
    *route("hardware/info", views.HardwareInfoView.as_view(), name="hardware-info"),
    *route(
        "hardware/robots",
        views.RobotListCreateView.as_view(),
        name="hardware-robot-list",
    ),
    *route(
        "hardware/robots/<str:robot_id>",
        views.RobotDetailView.as_view(),
        name="hardware-robot-detail",
    ),
    *route(
        "hardware/robots/<str:robot_id>/token",
        views.RobotTokenView.as_view(),
        name="hardware-robot-token",
    ),
    *route(
        "hardware/robots/<str:robot_id>/state",
        views.RobotStateView.as_view(),
        name="hardware-robot-state",
    ),
    *route(
        "hardware/robots/<str:robot_id>/command",
        views.RobotCommandView.as_view(),
        name="hardware-robot-command",
    ),
    *route(
        "hardware/robots/<str:robot_id>/commands",
        views.RobotCommandListView.as_view(),
        name="hardware-robot-commands",
    ),
    *route(
        "hardware/commands/<str:command_id>/ack",
        views.CommandAckView.as_view(),
        name="hardware-command-ack",
    ),
]
