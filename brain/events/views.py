from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from brain.events.filters import EventFilter, FilterError
from brain.events.registry import readable_types
from brain.events.selectors import events_after
from brain.events.serializers import EventPageSerializer, EventQuerySerializer


class EventHistoryView(APIView):
    """The event log after a cursor: the same ``seq`` the WebSocket uses."""

    @extend_schema(parameters=[EventQuerySerializer], responses=EventPageSerializer)
    def get(self, request):
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        try:
            event_filter = EventFilter.parse(
                params.get("types"),
                params.get("subject"),
                readable_types(request.user),
            )
        except FilterError as exc:
            field, _, message = str(exc).partition(": ")
            raise ValidationError({field: [message]}) from None
        rows = events_after(
            params["after"], event_filter=event_filter, limit=params["limit"]
        )
        last_seq = rows[-1].seq if rows else params["after"]
        return Response(
            {"results": [row.envelope() for row in rows], "last_seq": last_seq}
        )
