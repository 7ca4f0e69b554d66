"""Thin views: parse, call one service or selector, render."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from brain.access.machines import acting_as, machine_id
from brain.api.representation import Representation
from hardware import selectors, services
from hardware.models import (
    CommandStatus,
    Robot,
    RobotCommand,
    RobotModel,
    RobotState,
)
from hardware.serializers import (
    CommandAckSerializer,
    CommandSentSerializer,
    CommandSerializer,
    HardwareInfoSerializer,
    MovementCommandSerializer,
    RobotRegisterSerializer,
    RobotSerializer,
    RobotStateViewSerializer,
    RobotTokenSerializer,
    StateBatchStoredSerializer,
    StateReportSerializer,
    state_report_validated,
    state_reports_input,
)


def _state_view(robot: Robot, state: RobotState | None) -> dict:
    return {
        "robot_id": robot.robot_id,
        "online": robot.online,
        "last_seen": robot.last_seen,
        "state": state,
    }


# A robot's state as RobotStateViewSerializer renders it, fields built once.
ROBOT_STATE = Representation(RobotStateViewSerializer)


class HardwareInfoView(APIView):
    read_permissions = ("hardware.view_robot",)

    @extend_schema(responses=HardwareInfoSerializer)
    def get(self, request):
        return Response(HardwareInfoSerializer(services.hardware_info_query()).data)


class RobotFilter(filters.FilterSet):
    model = filters.MultipleChoiceFilter(choices=RobotModel.choices)
    online = filters.BooleanFilter(field_name="is_online")

    class Meta:
        model = Robot
        fields = ["model"]


class RobotListCreateView(generics.ListAPIView):
    """List robots with ``online`` and their latest state, or register one."""

    read_permissions = ("hardware.view_robot",)

    serializer_class = RobotSerializer
    filterset_class = RobotFilter
    search_fields = ["robot_id", "name"]
    ordering_fields = ["robot_id", "name", "model", "last_seen", "created_at"]
    ordering = ["robot_id"]
    write_permissions = ("hardware.add_robot",)

    def get_queryset(self):
        return selectors.robot_list()

    @extend_schema(
        request=RobotRegisterSerializer,
        responses={
            201: RobotSerializer,
            409: OpenApiResponse(description="a robot with this id exists"),
        },
    )
    def post(self, request):
        serializer = RobotRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        robot = services.robot_register(**serializer.validated_data)
        robot = selectors.robot_get(robot.robot_id)
        return Response(RobotSerializer(robot).data, status=status.HTTP_201_CREATED)


class RobotDetailView(APIView):
    read_permissions = ("hardware.view_robot",)

    @extend_schema(responses=RobotSerializer)
    def get(self, request, robot_id):
        return Response(RobotSerializer(selectors.robot_get(robot_id)).data)


class RobotStateView(APIView):
    """Read the latest state (recorded as an event), or report a new one."""

    read_permissions = ("hardware.view_robot",)

    write_permissions = ("hardware.add_robotstate",)
    # A robot's own token reports its own state (403 for another robot's).
    machine_writes = True

    @extend_schema(responses=RobotStateViewSerializer)
    def get(self, request, robot_id):
        robot = services.robot_state_query(robot_id=robot_id)
        return Response(ROBOT_STATE(_state_view(robot, robot.latest_state)))

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="StateReportsInput",
            serializers=[StateReportSerializer, StateReportSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        description="One report (an object; answers the robot's state) or a batch "
        "(an array of at most `HARDWARE_STATE_BATCH_MAX` reports, stored all or "
        "none; answers their ids). A batch gives one `hardware.state_reported` "
        "event with the latest values.",
        responses={
            201: PolymorphicProxySerializer(
                component_name="StateStored",
                serializers=[RobotStateViewSerializer, StateBatchStoredSerializer],
                resource_type_field_name=None,
                many=False,
            )
        },
    )
    def post(self, request, robot_id):
        acting_as(request.user, "robot", robot_id, field="robot_id")
        if isinstance(request.data, list):
            return self._batch(request, robot_id)
        params = state_report_validated(request.data, robot_id)
        params.pop("robot_id", None)
        robot, state = services.robot_report_state(robot_id=robot_id, **params)
        return Response(
            ROBOT_STATE(_state_view(robot, state)),
            status=status.HTTP_201_CREATED,
        )

    def _batch(self, request, robot_id):
        """A JSON array of reports: all stored (201) or none (400 naming each bad
        one by its index)."""
        reports = state_reports_input(request.data, robot_id)
        states = services.robot_report_states(reports)
        robot = states[-1].robot
        return Response(
            {
                "robot_id": robot_id,
                "stored": len(states),
                "ids": [state.pk for state in states],
                "online": robot.online,
                "last_seen": robot.last_seen,
            },
            status=status.HTTP_201_CREATED,
        )


class RobotCommandView(APIView):
    """Send a movement command; the robot receives it live on its event socket."""

    read_permissions = ("hardware.view_robot",)

    write_permissions = ("hardware.add_robotcommand",)

    @extend_schema(
        request=MovementCommandSerializer, responses={202: CommandSentSerializer}
    )
    def post(self, request, robot_id):
        serializer = MovementCommandSerializer(
            data=request.data, context={"robot_id": robot_id}
        )
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        command = services.robot_command_send(
            robot_id=robot_id,
            linear_x=params["linear_x"],
            linear_y=params["linear_y"],
            angular_z=params["angular_z"],
            sent_by=request.user,
        )
        body = {
            "robot_id": command.robot_id,
            "command_id": command.id,
            "status": "command_sent",
            "command": command,
        }
        return Response(
            CommandSentSerializer(body).data, status=status.HTTP_202_ACCEPTED
        )


class CommandFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=CommandStatus.choices)

    class Meta:
        model = RobotCommand
        fields = ["status"]


class RobotCommandListView(generics.ListAPIView):
    """A robot's command history, newest first."""

    read_permissions = ("hardware.view_robot",)

    serializer_class = CommandSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = CommandFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RobotCommand.objects.none()
        return selectors.robot_commands(self.kwargs["robot_id"])


class CommandAckView(APIView):
    """The robot reports a command acknowledged, executed or failed."""

    read_permissions = ("hardware.view_robot",)

    write_permissions = ("hardware.change_robotcommand",)
    # A robot's own token acknowledges its own commands (403 for another's).
    machine_writes = True

    @extend_schema(
        request=CommandAckSerializer,
        responses={
            200: CommandSerializer,
            403: OpenApiResponse(
                description="a robot's token, another robot's command"
            ),
            409: OpenApiResponse(
                description="the command's status does not allow this report"
            ),
        },
    )
    def post(self, request, command_id):
        serializer = CommandAckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        command = services.command_acknowledge(
            command_id=command_id,
            holder=machine_id(request.user, "robot"),
            **serializer.validated_data,
        )
        return Response(CommandSerializer(command).data)


class RobotTokenView(APIView):
    """Issue the robot a token of its own (201, shown only now; any earlier one is
    revoked), or revoke it (204). With it the robot reports its own state,
    acknowledges its own commands and receives only its own commands on the socket."""

    read_permissions = ("hardware.view_robot",)
    write_permissions = ("hardware.change_robot",)

    @extend_schema(
        request=None,
        responses={
            201: RobotTokenSerializer,
            404: OpenApiResponse(description="no such robot"),
        },
    )
    def post(self, request, robot_id):
        token = services.robot_token_issue(robot_id=robot_id)
        return Response({"token": token}, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            204: None,
            404: OpenApiResponse(description="no such robot, or it has no token"),
        }
    )
    def delete(self, request, robot_id):
        services.robot_token_revoke(robot_id=robot_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
