"""Thin views: parse, call one service or selector, render."""

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from brain.access.machines import machine_id
from brain.api.pagination import StandardPagination
from brain.api.renderers import JSONLinesRenderer, PlainTextRenderer, json_errors
from brain.api.representation import Representation
from missions import selectors, services
from missions.log_download import log_download
from missions.models import Mission, MissionPriority, MissionStatus
from missions.serializers import (
    LogEntryInputSerializer,
    LogEntrySerializer,
    MissionCreateSerializer,
    MissionLogPageSerializer,
    MissionLogQuerySerializer,
    MissionSerializer,
    MissionStatsSerializer,
    MissionStatusSerializer,
    StatusChangeSerializer,
    log_entries_data,
    log_entries_input,
    max_log_batch,
)

# Missions as MissionSerializer renders them, fields built once (hot paths).
MISSION = Representation(MissionSerializer)


class MissionsHealthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        responses=inline_serializer(
            "MissionsHealth", {"status": serializers.CharField()}
        )
    )
    def get(self, request):
        return Response({"status": "ok"})


class MissionFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=MissionStatus.choices)
    priority = filters.TypedChoiceFilter(choices=MissionPriority.choices, coerce=int)
    assigned_agent = filters.CharFilter(field_name="assigned_agent_id")

    class Meta:
        model = Mission
        fields = ["status", "priority", "assigned_agent"]


class MissionListCreateView(generics.ListAPIView):
    """List missions (newest first) or create one."""

    read_permissions = ("missions.view_mission",)

    serializer_class = MissionSerializer
    filterset_class = MissionFilter
    search_fields = ["name", "description"]
    ordering_fields = ["created_at", "updated_at", "priority", "name", "status"]
    ordering = ["-created_at"]
    write_permissions = ("missions.add_mission",)

    def get_queryset(self):
        return selectors.mission_list()

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(MISSION.many(page))

    @extend_schema(
        request=MissionCreateSerializer,
        responses={
            201: MissionSerializer,
            409: OpenApiResponse(description="a mission with this id exists"),
        },
    )
    def post(self, request):
        serializer = MissionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        mission = services.mission_create(
            name=params["name"],
            description=params["description"],
            data=params["data"],
            priority=params["priority"],
            mission_id=params.get("id"),
        )
        return Response(MISSION(mission), status=status.HTTP_201_CREATED)


class MissionDetailView(APIView):
    read_permissions = ("missions.view_mission",)

    @extend_schema(responses=MissionSerializer)
    def get(self, request, mission_id):
        return Response(MISSION(selectors.mission_get(mission_id)))


class MissionStatusView(APIView):
    """Change the status; ``?mission_status=`` is accepted as in the original API."""

    read_permissions = ("missions.view_mission",)

    write_permissions = ("missions.change_mission",)
    # An agent's own token changes the missions it holds (403 on any other).
    machine_writes = True

    @extend_schema(
        request=MissionStatusSerializer,
        responses={
            200: MissionSerializer,
            409: OpenApiResponse(
                description="the mission's status does not allow this change"
            ),
        },
        parameters=[
            OpenApiParameter(
                "mission_status", str, required=False, enum=MissionStatus.values
            )
        ],
    )
    def post(self, request, mission_id):
        data = request.data
        # A body without ``status`` (or a JSON ``null``) defers to the query string.
        if data is None or (isinstance(data, dict) and "status" not in data):
            param = request.query_params.get("mission_status")
            data = {"status": param} if param is not None else {}
        serializer = MissionStatusSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        mission = services.mission_set_status(
            mission_id=mission_id,
            status=serializer.validated_data["status"],
            holder=machine_id(request.user, "agent"),
        )
        return Response(MISSION(mission))


class MissionHistoryView(APIView):
    """The mission's status history, oldest first: from its own table, so retention
    of the event log never shortens it."""

    read_permissions = ("missions.view_mission",)

    @extend_schema(responses=StatusChangeSerializer(many=True))
    def get(self, request, mission_id):
        changes = selectors.mission_status_history(mission_id)
        return Response(StatusChangeSerializer(changes, many=True).data)


class MissionLogView(APIView):
    """Read a mission's log (paged, the newest lines, searched, filtered by level,
    or downloaded whole as text or JSON Lines), or append one entry or a batch."""

    read_permissions = ("missions.view_mission",)

    write_permissions = ("missions.add_missionlog",)
    # An agent's own token writes to the logs of the missions it holds.
    machine_writes = True
    renderer_classes = [
        *api_settings.DEFAULT_RENDERER_CLASSES,
        PlainTextRenderer,
        JSONLinesRenderer,
    ]

    def finalize_response(self, request, response, *args, **kwargs):
        return json_errors(
            super().finalize_response(request, response, *args, **kwargs)
        )

    @extend_schema(
        parameters=[
            MissionLogQuerySerializer,
            OpenApiParameter(
                "page", int, description="page mode: the page number, from 1"
            ),
            OpenApiParameter(
                "page_size", int, description="page mode: lines per page (1-500)"
            ),
            OpenApiParameter(
                "format",
                str,
                enum=["json", "txt", "jsonl"],
                description="txt or jsonl: the whole (filtered) log as a streamed "
                "download; also by `Accept: text/plain` or `application/jsonl`",
            ),
        ],
        responses={
            (200, "application/json"): MissionLogPageSerializer,
            (200, "text/plain"): OpenApiTypes.STR,
            (200, "application/jsonl"): OpenApiTypes.STR,
        },
    )
    def get(self, request, mission_id):
        query = MissionLogQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        q = params.get("q")
        entries = selectors.mission_log(
            mission_id,
            levels=params.get("level"),
            after=params.get("after"),
            before=params.get("before"),
            q=q,
        )
        pk = str(selectors.parse_mission_id(mission_id))
        fmt = getattr(request.accepted_renderer, "format", "json")
        if fmt in ("txt", "jsonl"):
            return log_download(pk, entries, fmt)
        if "last" in params:
            lines, older = selectors.mission_log_tail(entries, params["last"])
            url = request.build_absolute_uri()
            previous = (
                replace_query_param(url, "before", lines[0].id)
                if older and lines
                else None
            )
            following = None
            if "before" in params and lines:
                following = remove_query_param(
                    remove_query_param(
                        replace_query_param(url, "after", lines[-1].id), "before"
                    ),
                    "last",
                )
            body = {
                "mission_id": pk,
                "count": entries.count(),
                "next": following,
                "previous": previous,
                "log": log_entries_data(lines, q=q),
            }
            return Response(body)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return Response(
            {
                "mission_id": pk,
                "count": paginator.page.paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "log": log_entries_data(page, q=q),
            }
        )

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="LogEntriesInput",
            serializers=[LogEntryInputSerializer, LogEntryInputSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        description="One entry (an object) or a batch (an array of them, at most "
        "`MISSIONS_LOG_BATCH_MAX`), all or none.",
        responses={
            201: inline_serializer(
                "LogAppended",
                {
                    "mission_id": serializers.UUIDField(),
                    "log": LogEntrySerializer(many=True),
                },
            )
        },
    )
    def post(self, request, mission_id):
        batch = request.data
        if isinstance(batch, dict):
            batch = [batch]
        elif not isinstance(batch, list):
            raise ValidationError(
                {
                    "non_field_errors": [
                        "expected a log entry object or an array of them"
                    ]
                }
            )
        if not batch:
            raise ValidationError({"non_field_errors": ["no log entries given"]})
        if len(batch) > max_log_batch():
            raise ValidationError(
                {"non_field_errors": [f"at most {max_log_batch()} entries per request"]}
            )
        validated = log_entries_input(batch)
        if validated is None:
            serializer = LogEntryInputSerializer(data=batch, many=True)
            if not serializer.is_valid():
                # DRF gives a list with one entry per item, or (3.18) only the
                # failing items by index.
                errors = serializer.errors
                items = (
                    errors.items() if isinstance(errors, dict) else enumerate(errors)
                )
                errors = {str(i): e for i, e in items if e}
                raise ValidationError({"entries": errors})
            validated = serializer.validated_data
        entries = services.mission_log_append(
            mission_id=mission_id,
            lines=[services.LogLine(**item) for item in validated],
            holder=machine_id(request.user, "agent"),
        )
        return Response(
            {
                "mission_id": str(selectors.parse_mission_id(mission_id)),
                "log": log_entries_data(entries),
            },
            status=status.HTTP_201_CREATED,
        )


class MissionStatsView(APIView):
    read_permissions = ("missions.view_mission",)

    @extend_schema(responses=MissionStatsSerializer)
    def get(self, request):
        return Response(MissionStatsSerializer(selectors.mission_stats()).data)
