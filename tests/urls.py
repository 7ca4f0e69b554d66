from brain.urls import *  # noqa: F403
from brain.urls import urlpatterns
from tests.eventsapp.urls import urlpatterns as eventsapp_urlpatterns

urlpatterns = [*eventsapp_urlpatterns, *urlpatterns]
