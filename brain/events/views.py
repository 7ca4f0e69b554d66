from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from brain.access.machines import confined_subject
from brain.errors import Conflict
from brain.events import cloudevent
from brain.events.filters import EventFilter, FilterError
from brain.events.registry import readable_types
from brain.events.selectors import events_after, log_head
from brain.events.serializers import (
    LATEST,
    CloudEventSerializer,
    EventPageSerializer,
    EventQuerySerializer,
)

# The cursor of a CloudEvents batch, which is a bare JSON array.
LAST_SEQ_HEADER = "Brain-Last-Seq"


class CloudEventsBatchRenderer(JSONRenderer):
    media_type = cloudevent.BATCH_MEDIA_TYPE
    format = "cloudevents"


def parse_event_filter(params, user) -> EventFilter:
    """``types`` and ``subject`` of a request, narrowed to what ``user`` may read;
    a bad value is a 400 naming its parameter."""
    try:
        return EventFilter.parse(
            params.get("types"),
            params.get("subject"),
            readable_types(user),
            confined=confined_subject(user),
        )
    except FilterError as exc:
        field, _, message = str(exc).partition(": ")
        raise ValidationError({field: [message]}) from None


class EventHistoryView(APIView):
    """The event log after a cursor: the same ``seq`` the WebSocket uses.

    With ``Accept: application/cloudevents-batch+json`` the page is a JSON array of
    CloudEvents and the cursor is the ``Brain-Last-Seq`` response header.
    """

    renderer_classes = [
        *api_settings.DEFAULT_RENDERER_CLASSES,
        CloudEventsBatchRenderer,
    ]

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # DRF's answer to an unknown ?format=
            raise ValidationError(
                {"format": ["expected 'json' or 'cloudevents'"]}
            ) from None

    def finalize_response(self, request, response, *args, **kwargs):
        # An error is a JSON object, not a batch: answer it as application/json.
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), CloudEventsBatchRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        parameters=[EventQuerySerializer],
        responses={
            (200, "application/json"): EventPageSerializer,
            (200, cloudevent.BATCH_MEDIA_TYPE): OpenApiResponse(
                CloudEventSerializer(many=True),
                description="A JSON array of CloudEvents 1.0; the cursor is the "
                "Brain-Last-Seq header.",
            ),
            409: OpenApiResponse(description="`after` is past the log's head"),
        },
    )
    def get(self, request):
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        event_filter = parse_event_filter(params, request.user)
        after = params["after"]
        if after == LATEST:
            after = log_head()
            rows = []
        else:
            rows = events_after(after, event_filter=event_filter, limit=params["limit"])
            if not rows and after > (head := log_head()):
                raise Conflict(
                    f"after: {after} is past the log's head ({head}); no event has "
                    "that seq yet. after=latest starts from now.",
                    last_seq=head,
                )
        last_seq = rows[-1].seq if rows else after
        if isinstance(request.accepted_renderer, CloudEventsBatchRenderer):
            batch = [cloudevent.to_cloudevent(row.envelope()) for row in rows]
            return Response(batch, headers={LAST_SEQ_HEADER: str(last_seq)})
        return Response(
            {"results": [row.envelope() for row in rows], "last_seq": last_seq}
        )
