import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are made for every test; the production hasher takes most of a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
