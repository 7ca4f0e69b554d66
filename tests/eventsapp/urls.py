from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from brain.api.routes import route
from tests.eventsapp import services


class WidgetInput(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    state = serializers.CharField(max_length=20, required=False)


class WidgetsView(APIView):
    write_permissions = ("eventsapp.add_widget",)

    def post(self, request):
        data = WidgetInput(data=request.data)
        data.is_valid(raise_exception=True)
        widget = services.widget_create(name=data.validated_data["name"])
        if "state" in data.validated_data:
            services.widget_set_state(
                widget_id=widget.pk, state=data.validated_data["state"]
            )
        return Response({"id": widget.pk}, status=201)


urlpatterns = route("api/test-widgets", WidgetsView.as_view())
