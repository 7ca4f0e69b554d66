from django.contrib import admin

from tests.eventsapp import services
from tests.eventsapp.models import Widget


@admin.register(Widget)
class WidgetAdmin(admin.ModelAdmin):
    fields = ["name", "state"]

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.widget_create(name=obj.name)
            obj.pk = created.pk
            if obj.state != created.state:
                services.widget_set_state(widget_id=obj.pk, state=obj.state)
        elif "state" in form.changed_data:
            services.widget_set_state(widget_id=obj.pk, state=obj.state)
