from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from brain import __version__
from brain.health import OK, check_components


class HealthView(APIView):
    """Database, cache and channel layer: ``ok`` or what is down (503)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        responses={
            (200, "application/json"): inline_serializer(
                "ProjectHealth",
                {
                    "status": serializers.ChoiceField(["ok", "degraded"]),
                    "version": serializers.CharField(),
                    "timestamp": serializers.FloatField(),
                    "components": serializers.DictField(child=serializers.CharField()),
                },
            ),
            (503, "application/json"): inline_serializer(
                "ProjectHealthDown",
                {
                    "status": serializers.CharField(),
                    "version": serializers.CharField(),
                    "timestamp": serializers.FloatField(),
                    "components": serializers.DictField(child=serializers.CharField()),
                },
            ),
        }
    )
    def get(self, request):
        components = check_components()
        healthy = all(state == OK for state in components.values())
        return Response(
            {
                "status": "ok" if healthy else "degraded",
                "version": __version__,
                "timestamp": timezone.now().timestamp(),
                "components": components,
            },
            status=200 if healthy else 503,
        )


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI. GET and HEAD only: DRF's OPTIONS answer has no HTML template,
    so it would fail as a server error."""

    http_method_names = ["get", "head"]
