"""OpenAPI tweaks: each route once, in its documented form without the slash."""


def drop_trailing_slash_twins(endpoints, **kwargs):
    """Every API route also answers with a trailing slash; document it once."""
    paths = {path for path, *_ in endpoints}
    return [
        endpoint
        for endpoint in endpoints
        if not (endpoint[0].endswith("/") and endpoint[0].rstrip("/") in paths)
    ]
