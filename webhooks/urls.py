from brain.api.routes import route
from webhooks import views

urlpatterns = [
    *route(
        "webhooks/endpoints",
        views.EndpointListCreateView.as_view(),
        name="webhook-endpoint-list",
    ),
    *route(
        "webhooks/endpoints/<str:endpoint_id>",
        views.EndpointDetailView.as_view(),
        name="webhook-endpoint-detail",
    ),
    *route(
        "webhooks/endpoints/<str:endpoint_id>/rotate-secret",
        views.EndpointRotateSecretView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    *route(
        "webhooks/endpoints/<str:endpoint_id>/replay",
        views.EndpointReplayView.as_view(),
        name="webhook-endpoint-replay",
    ),
    *route(
        "webhooks/endpoints/<str:endpoint_id>/attempts",
        views.EndpointAttemptsView.as_view(),
        name="webhook-endpoint-attempts",
    ),
]
