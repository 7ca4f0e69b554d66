"""Settings of the bench server: the project's, plus a bench-only URL for the baseline.

``/bench/plain`` (a plain Django ``JsonResponse``) exists only here, so the app's own
URLs never carry it.
"""

from brain.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
