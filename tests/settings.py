"""Test settings for every test folder, and for every server a test starts.

The project's settings, plus an app that exists only in the test suite, a fast
password hasher, and per-process Redis names when pytest-xdist runs the suite.
"""

import os

from brain.settings import *  # noqa: F403
from brain.settings import CACHES, CHANNEL_LAYERS, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.eventsapp"]
ROOT_URLCONF = "tests.urls"

# Most tests make users; PBKDF2's deliberate slowness (seconds per user on a busy
# machine) buys nothing here. The servers the tests start use these settings too,
# so a password set in a test signs in there.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# pytest-xdist runs the suite in worker processes (gw0, gw1, ...) that share one
# Redis db, as they share one PostgreSQL server: each has its own test database
# (pytest-django), and here its own cache keys and channel-layer names. A server a
# test starts inherits PYTEST_XDIST_WORKER, so it shares its worker's.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    _layer = CHANNEL_LAYERS["default"]
    if "prefix" in _layer.get("CONFIG", {}):
        CHANNEL_LAYERS = {
            **CHANNEL_LAYERS,
            "default": {
                **_layer,
                "CONFIG": {
                    **_layer["CONFIG"],
                    "prefix": f"{_layer['CONFIG']['prefix']}-{XDIST_WORKER}",
                },
            },
        }
    if "KEY_PREFIX" in CACHES["default"]:
        CACHES = {
            **CACHES,
            "default": {
                **CACHES["default"],
                "KEY_PREFIX": f"{CACHES['default']['KEY_PREFIX']}-{XDIST_WORKER}",
            },
        }

# Static files as the apps hold them, whatever a ``bin/run`` in this checkout
# collected into ``staticfiles/``: the project's settings switch to the collected
# manifest when one exists, and a file added since would then be missing. The
# dashboard's tests collect their own (tests/dashboard/settings.py).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
