from django.urls import path


def route(pattern: str, view, name: str | None = None) -> list:
    """The same view with and without the trailing slash (``POST /api/missions``)."""
    pattern = pattern.rstrip("/")
    return [path(pattern, view, name=name), path(pattern + "/", view)]
