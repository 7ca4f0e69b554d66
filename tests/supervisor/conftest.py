import pytest
from django.core.cache import cache

from supervisor.selectors import COMPONENTS_CACHE_KEY


@pytest.fixture(autouse=True)
def _forget_component_checks():
    """The status cache stays on (the real default); no test sees the component
    checks another test cached."""
    cache.delete(COMPONENTS_CACHE_KEY)
    yield
    cache.delete(COMPONENTS_CACHE_KEY)
