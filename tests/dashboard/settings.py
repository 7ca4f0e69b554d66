"""The test settings, serving the static files ``conftest.py`` collected for the run.

Production serves the dashboard after ``collectstatic``: hashed, compressed files from
``STATIC_ROOT`` through WhiteNoise. The dashboard's servers do the same, from a
temporary folder, so the browser tests load the files the way production does.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import STATIC_ROOT, STORAGES

STATIC_ROOT = os.environ.get("DASHBOARD_STATIC_ROOT", STATIC_ROOT)
STORAGES = {
    **STORAGES,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = False
