import pytest


@pytest.fixture(autouse=True)
def _fresh_status(settings):
    """Each test reads the overview afresh; the caching test turns the cache on."""
    settings.SUPERVISOR_STATUS_CACHE_SECONDS = 0
