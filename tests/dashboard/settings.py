"""The test settings, serving the static files ``conftest.py`` collected for the run.

Production serves the dashboard's files from ``STATIC_ROOT`` after ``collectstatic``
(hashed names, WhiteNoise); the dashboard tests do the same, into a temporary folder.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import STATIC_ROOT

STATIC_ROOT = os.environ.get("DASHBOARD_STATIC_ROOT", STATIC_ROOT)
