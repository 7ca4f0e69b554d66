"""Thin views: parse, call one service or selector, render."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from brain.access.machines import acting_as
from missions.serializers import MissionSerializer
from supervisor import selectors, services
from supervisor.models import Agent, AgentState
from supervisor.serializers import (
    AgentControlResultSerializer,
    AgentControlSerializer,
    AgentDetailSerializer,
    AgentHeartbeatSerializer,
    AgentRegisterSerializer,
    AgentSerializer,
    AgentTokenSerializer,
    ClaimSerializer,
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
    """One agent, with the RUNNING missions it holds and the last control action."""

    read_permissions = ("supervisor.view_agent",)

    @extend_schema(responses=AgentDetailSerializer)
    def get(self, request, agent_id):
        return Response(AgentDetailSerializer(selectors.agent_detail(agent_id)).data)


class AgentTokenView(APIView):
    """Issue the agent a token of its own (201, shown only now; any earlier one is
    revoked), or revoke it (204). With it the agent claims, beats, writes to the
    missions it holds and spends its own credits, only as itself."""

    read_permissions = ("supervisor.view_agent",)
    write_permissions = ("supervisor.change_agent",)

    @extend_schema(
        request=None,
        responses={
            201: AgentTokenSerializer,
            404: OpenApiResponse(description="no such agent"),
        },
    )
    def post(self, request, agent_id):
        token = services.agent_token_issue(agent_id=agent_id)
        return Response({"token": token}, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            204: None,
            404: OpenApiResponse(description="no such agent, or it has no token"),
        }
    )
    def delete(self, request, agent_id):
        services.agent_token_revoke(agent_id=agent_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MissionClaimView(APIView):
    """For workers: take the next PENDING mission (200) or learn there is none (204).

    Only a registered agent that is healthy or degraded may claim (404 / 409
    naming its state otherwise). With the agent's own token ``agent_id`` may be left
    out; an operator's token names the agent.
    """

    read_permissions = ("missions.view_mission",)
    write_permissions = ("missions.change_mission",)
    machine_writes = True

    @extend_schema(
        tags=["missions"],
        request=ClaimSerializer,
        responses={
            200: MissionSerializer,
            204: None,
            403: OpenApiResponse(description="an agent's token naming another agent"),
            404: OpenApiResponse(description="the agent is not registered"),
            409: OpenApiResponse(
                description="the agent is paused, killed, offline or unknown"
            ),
        },
    )
    def post(self, request):
        serializer = ClaimSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agent_id = acting_as(
            request.user,
            "agent",
            serializer.validated_data.get("agent_id"),
            field="agent_id",
        )
        mission = services.agent_claim_mission(agent_id=agent_id)
        if mission is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(MissionSerializer(mission).data)


class AgentHeartbeatView(APIView):
    """The agent is alive; optionally its state and the mission it works on."""

    read_permissions = ("supervisor.view_agent",)

    write_permissions = ("supervisor.change_agent",)
    machine_writes = True

    @extend_schema(
        request=AgentHeartbeatSerializer,
        responses={
            200: AgentSerializer,
            403: OpenApiResponse(description="an agent's token beating for another"),
            404: OpenApiResponse(description="no such agent"),
            409: OpenApiResponse(
                description="the agent was killed (refused until restart), or "
                "current_mission_id names a mission that is not RUNNING, or that "
                "another agent holds; nothing is recorded"
            ),
        },
    )
    def post(self, request, agent_id):
        acting_as(request.user, "agent", agent_id, field="agent_id")
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
