"""Test settings: the project's, plus an app that exists only in the test suite."""

from brain.settings import *  # noqa: F403
from brain.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.eventsapp"]
ROOT_URLCONF = "tests.urls"
