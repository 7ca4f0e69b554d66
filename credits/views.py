"""Thin views: parse, call one service or selector, render."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from brain import __version__
from brain.access.machines import acting_as
from credits import selectors, services
from credits.models import TransactionKind, format_amount, max_amount
from credits.serializers import (
    AccountCreateSerializer,
    AccountSerializer,
    AllocateSerializer,
    BalanceSerializer,
    ConsumeSerializer,
    CreditsHealthSerializer,
    CreditsInfoSerializer,
    HistoryQuerySerializer,
    HistorySerializer,
    LedgerEntrySerializer,
    MovementSerializer,
    RefundSerializer,
)

REPLAYED_HEADER = "Idempotent-Replayed"
MOVEMENT_RESPONSES = {
    200: MovementSerializer,
    400: OpenApiResponse(description="invalid input; the body names the field"),
    403: OpenApiResponse(description="an agent's own token acting for another"),
    404: OpenApiResponse(description="the agent has no account, or no such mission"),
    409: OpenApiResponse(
        description="insufficient credits, a refund above what the mission consumed, "
        "or an idempotency key reused differently"
    ),
}


class CreditsHealthView(APIView):
    """Public probe; each call is recorded as a ``credits.health_checked`` event."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=CreditsHealthSerializer)
    def get(self, request):
        return Response(services.credits_health_check())


class CreditsInfoView(APIView):
    read_permissions = ("credits.view_account",)

    @extend_schema(responses=CreditsInfoSerializer)
    def get(self, request):
        return Response(
            {
                "name": "brain.credits",
                "version": __version__,
                "config": {
                    "max_amount": format_amount(max_amount()),
                    "currency_decimals": 2,
                    "kinds": TransactionKind.values,
                    "history_limit_default": selectors.HISTORY_LIMIT_DEFAULT,
                    "history_limit_max": selectors.HISTORY_LIMIT_MAX,
                },
            }
        )


class AccountCreateView(APIView):
    """Open an agent's account, optionally with initial credits (an allocation)."""

    read_permissions = ("credits.view_account",)

    write_permissions = ("credits.add_account", "credits.add_ledgerentry")

    @extend_schema(
        request=AccountCreateSerializer,
        responses={
            201: AccountSerializer,
            409: OpenApiResponse(description="the agent already has an account"),
        },
    )
    def post(self, request):
        serializer = AccountCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.account_create(**serializer.validated_data)
        return Response(AccountSerializer(account).data, status=status.HTTP_201_CREATED)


def _movement_response(movement: services.Movement) -> Response:
    headers = {REPLAYED_HEADER: "true"} if movement.replayed else None
    return Response(MovementSerializer(movement).data, headers=headers)


class AllocateView(APIView):
    read_permissions = ("credits.view_account",)
    write_permissions = ("credits.add_ledgerentry",)

    @extend_schema(request=AllocateSerializer, responses=MOVEMENT_RESPONSES)
    def post(self, request):
        serializer = AllocateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _movement_response(
            services.credits_allocate(**serializer.validated_data)
        )


class ConsumeView(APIView):
    """Spend an agent's credits; an agent's own token spends only its own."""

    read_permissions = ("credits.view_account",)
    write_permissions = ("credits.add_ledgerentry",)
    machine_writes = True

    @extend_schema(request=ConsumeSerializer, responses=MOVEMENT_RESPONSES)
    def post(self, request):
        serializer = ConsumeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        acting_as(request.user, "agent", params["agent_id"], field="agent_id")
        return _movement_response(services.credits_consume(**params))


class RefundView(APIView):
    read_permissions = ("credits.view_account",)
    write_permissions = ("credits.add_ledgerentry",)

    @extend_schema(request=RefundSerializer, responses=MOVEMENT_RESPONSES)
    def post(self, request):
        serializer = RefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _movement_response(services.credits_refund(**serializer.validated_data))


class BalanceView(APIView):
    read_permissions = ("credits.view_account",)

    @extend_schema(responses=BalanceSerializer)
    def get(self, request, agent_id):
        return Response(BalanceSerializer(selectors.account_get(agent_id)).data)


class BalanceListView(generics.ListAPIView):
    """Every account with its balance, by agent id, paginated."""

    read_permissions = ("credits.view_account",)

    serializer_class = AccountSerializer
    ordering_fields = ["agent_id", "balance", "created_at", "updated_at"]
    ordering = ["agent_id"]
    search_fields = ["agent_id"]

    def get_queryset(self):
        return selectors.account_list()


class HistoryView(APIView):
    """An agent's ledger, newest first: ``?limit=`` (1-1000, 100) and ``?kind=``."""

    read_permissions = ("credits.view_account",)

    @extend_schema(parameters=[HistoryQuerySerializer], responses=HistorySerializer)
    def get(self, request, agent_id):
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        account, entries = selectors.ledger_history(agent_id, **query.validated_data)
        return Response(
            {
                "agent_id": account.agent_id,
                "balance": format_amount(account.balance),
                "transactions": LedgerEntrySerializer(entries, many=True).data,
            }
        )
