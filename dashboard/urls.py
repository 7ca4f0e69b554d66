from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="dashboard/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.board, name="board"),
    path("missions/<uuid:mission_id>/", views.mission_detail, name="mission"),
    path("events/", views.event_feed, name="events"),
    path("agents/", views.agents, name="agents"),
    path("robots/", views.robots, name="robots"),
    path("robots/<str:robot_id>/", views.robot_detail, name="robot"),
    path("credits/", views.credits, name="credits"),
    path("events/per-minute/", views.events_per_minute, name="events-per-minute"),
    path(
        "credits/transactions/",
        views.credit_transactions,
        name="credit-transactions",
    ),
]
