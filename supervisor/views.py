"""Thin views: parse, call one service or selector, render."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from supervisor import selectors, services
from supervisor.models import Agent, AgentState
from supervisor.serializers import (
    AgentControlResultSerializer,
    AgentControlSerializer,
    AgentHeartbeatSerializer,
    AgentRegisterSerializer,
    AgentSerializer,
    SupervisorHealthSerializer,
    SupervisorStatusSerializer,
)


class SupervisorHealthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=SupervisorHealthSerializer)
    def get(self, request):
        return Response(services.supervisor_health_check())


class SupervisorStatusView(APIView):
    """Missions by status, agents by state, and a real check of each component."""

    read_permissions = ("supervisor.view_agent",)

    @extend_schema(responses=SupervisorStatusSerializer)
    def get(self, request):
        return Response(
            SupervisorStatusSerializer(services.supervisor_status_query()).data
        )


class AgentFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(
        field_name="effective_state", choices=AgentState.choices
    )
    role = filters.CharFilter()

    class Meta:
        model = Agent
        fields = ["state", "role"]


class AgentListRegisterView(generics.ListAPIView):
    """List agents (by id), or register one (201) or update a known one (200)."""

    read_permissions = ("supervisor.view_agent",)

    serializer_class = AgentSerializer
    filterset_class = AgentFilter
    search_fields = ["agent_id", "name", "role"]
    ordering_fields = ["agent_id", "name", "role", "last_heartbeat", "created_at"]
    ordering = ["agent_id"]
    write_permissions = ("supervisor.add_agent", "supervisor.change_agent")

    def get_queryset(self):
        return selectors.agent_list()

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        services.agents_list_record(agent_count=response.data["count"])
        return response

    @extend_schema(
        request=AgentRegisterSerializer,
        responses={200: AgentSerializer, 201: AgentSerializer},
    )
    def post(self, request):
        serializer = AgentRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        agent, created = services.agent_register(
            agent_id=params["agent_id"],
            name=params["name"],
            role=params.get("role"),
            capabilities=params.get("capabilities"),
            meta=params.get("meta"),
        )
        return Response(
            AgentSerializer(agent).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AgentDetailView(APIView):
    read_permissions = ("supervisor.view_agent",)

    @extend_schema(responses=AgentSerializer)
    def get(self, request, agent_id):
        return Response(AgentSerializer(selectors.agent_get(agent_id)).data)


class AgentHeartbeatView(APIView):
    """The agent is alive; optionally its state and the mission it works on."""

    read_permissions = ("supervisor.view_agent",)

    write_permissions = ("supervisor.change_agent",)

    @extend_schema(
        request=AgentHeartbeatSerializer,
        responses={
            200: AgentSerializer,
            404: OpenApiResponse(description="no such agent"),
            409: OpenApiResponse(
                description="current_mission_id names a mission that is not "
                "RUNNING, or that another agent holds; nothing is recorded"
            ),
        },
    )
    def post(self, request, agent_id):
        serializer = AgentHeartbeatSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        agent = services.agent_heartbeat(
            agent_id=agent_id,
            state=params.get("state"),
            current_mission_id=params.get("current_mission_id", services.UNCHANGED),
        )
        return Response(AgentSerializer(agent).data)


class AgentControlView(APIView):
    """Pause, resume, kill or restart an agent."""

    read_permissions = ("supervisor.view_agent",)

    write_permissions = ("supervisor.change_agent",)

    @extend_schema(
        request=AgentControlSerializer,
        responses={
            200: AgentControlResultSerializer,
            403: OpenApiResponse(
                description="no permission, or the action is disabled on this server"
            ),
            404: OpenApiResponse(description="no such agent"),
            409: OpenApiResponse(
                description="the agent's state does not allow the action"
            ),
        },
    )
    def post(self, request):
        serializer = AgentControlSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agent, message = services.agent_control(**serializer.validated_data)
        return Response(
            AgentControlResultSerializer(
                {"success": True, "message": message, "agent": agent}
            ).data
        )
