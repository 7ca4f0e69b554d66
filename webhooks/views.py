"""Thin views: parse, call one service or selector, render."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from brain.errors import NotFound
from webhooks import selectors, services
from webhooks.models import AttemptOutcome
from webhooks.serializers import (
    AttemptSerializer,
    EndpointInputSerializer,
    EndpointSerializer,
    EndpointWithSecretSerializer,
    ReplayInputSerializer,
    ReplaySerializer,
)

READ = ("webhooks.view_endpoint",)


def _endpoint(endpoint_id):
    endpoint = selectors.endpoint_get(endpoint_id)
    if endpoint is None:
        raise NotFound("no such webhook endpoint")
    return endpoint


class EndpointListCreateView(generics.ListAPIView):
    """Webhook endpoints; POST registers one and answers its secret, once."""

    serializer_class = EndpointSerializer
    read_permissions = READ
    write_permissions = ("webhooks.add_endpoint",)
    filter_backends = []

    def get_queryset(self):
        return selectors.endpoint_list()

    @extend_schema(
        request=EndpointInputSerializer,
        responses={201: EndpointWithSecretSerializer},
    )
    def post(self, request):
        data = EndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(owner=request.user, **data.validated_data)
        return Response(
            EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )


class EndpointDetailView(APIView):
    """One endpoint; operators change or delete it (``change_endpoint``: the
    ``operators`` group holds no ``delete_`` permission, and managing endpoints is
    theirs)."""

    read_permissions = READ

    write_permissions = ("webhooks.change_endpoint",)

    @extend_schema(responses=EndpointSerializer)
    def get(self, request, endpoint_id):
        return Response(EndpointSerializer(_endpoint(endpoint_id)).data)

    @extend_schema(
        request=EndpointInputSerializer(partial=True), responses=EndpointSerializer
    )
    def patch(self, request, endpoint_id):
        data = EndpointInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(
            endpoint_id=endpoint_id, **data.validated_data
        )
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request, endpoint_id):
        services.endpoint_delete(endpoint_id=endpoint_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotateSecretView(APIView):
    """A new signing secret; the old one stays valid for the grace period."""

    read_permissions = READ
    write_permissions = ("webhooks.change_endpoint",)

    @extend_schema(request=None, responses=EndpointWithSecretSerializer)
    def post(self, request, endpoint_id):
        endpoint = services.endpoint_rotate_secret(endpoint_id=endpoint_id)
        return Response(EndpointWithSecretSerializer(endpoint).data)


class EndpointReplayView(APIView):
    """Send every matching event with ``after < seq <= until`` again, in order."""

    read_permissions = READ
    write_permissions = ("webhooks.change_endpoint",)

    @extend_schema(request=ReplayInputSerializer, responses={202: ReplaySerializer})
    def post(self, request, endpoint_id):
        data = ReplayInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        replay = services.endpoint_replay(
            endpoint_id=endpoint_id,
            requested_by=request.user.get_username(),
            **data.validated_data,
        )
        return Response(ReplaySerializer(replay).data, status=status.HTTP_202_ACCEPTED)


class EndpointAttemptsView(generics.ListAPIView):
    """Every delivery attempt to the endpoint, newest first."""

    serializer_class = AttemptSerializer
    read_permissions = READ
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("outcome", enum=AttemptOutcome.values),
            OpenApiParameter("seq", int),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        attempts = selectors.attempt_list(_endpoint(self.kwargs["endpoint_id"]))
        outcome = self.request.query_params.get("outcome")
        if outcome in AttemptOutcome.values:
            attempts = attempts.filter(outcome=outcome)
        seq = self.request.query_params.get("seq", "")
        if seq.isdigit():
            attempts = attempts.filter(seq=int(seq))
        return attempts
