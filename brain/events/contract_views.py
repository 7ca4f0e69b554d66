"""The generated contracts over HTTP: the AsyncAPI document and the type list."""

from drf_spectacular.settings import spectacular_settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import AUTHENTICATION_CLASSES
from rest_framework.response import Response
from rest_framework.views import APIView

from brain.events.contracts import asyncapi_document, type_contract
from brain.events.registry import readable_types, registered_types
from brain.events.serializers import EventTypeSerializer


class AsyncApiView(APIView):
    """The AsyncAPI 3.0 document of ``/ws/events/``; served like ``/api/schema/``."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = spectacular_settings.SERVE_PERMISSIONS

    @extend_schema(
        operation_id="events_asyncapi_retrieve",
        tags=["events"],
        summary="AsyncAPI 3.0 document of the WebSocket /ws/events/",
        description="One message per declared event type (payload: the envelope's "
        "JSON Schema), the control and client frames, and the query parameters. "
        "Generated from the event declarations.",
        responses={(200, "application/json"): OpenApiTypes.OBJECT},
    )
    def get(self, request):
        return Response(
            asyncapi_document(host=request.get_host(), secure=request.is_secure())
        )


class EventTypesView(APIView):
    """Every declared event type the user may read, with its payload's JSON Schema."""

    @extend_schema(
        summary="Declared event types the user may read",
        responses=EventTypeSerializer(many=True),
    )
    def get(self, request):
        readable = readable_types(request.user)
        return Response(
            [
                type_contract(event_type)
                for name, event_type in sorted(registered_types().items())
                if name in readable
            ]
        )
