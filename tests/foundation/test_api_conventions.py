"""Conventions every endpoint keeps: JSON errors, both slash forms, OpenAPI docs."""

import pytest
from drf_spectacular.validation import validate_schema

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_paths_answer_with_and_without_the_trailing_slash(api):
    for path in ("/api/missions", "/api/missions/", "/api/events", "/api/events/"):
        assert api.get(path).status_code == 200, path
    assert api.post("/api/missions", {"name": "a"}, format="json").status_code == 201
    assert api.post("/api/missions/", {"name": "b"}, format="json").status_code == 201


def test_openapi_schema_is_valid_and_docs_are_served(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert "/api/missions" in schema["paths"]
    assert "/api/missions/" not in schema["paths"]
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    # Both slash forms, like every other route.
    assert api.get("/api/schema", {"format": "json"}).json() == schema
    assert api.get("/api/docs").status_code == 200


def test_unknown_paths_and_bad_json_get_json_errors(api):
    response = api.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "no-such-thing" in response.json()["detail"]
    response = api.post("/api/missions", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_an_oversized_body_is_refused_with_413(api, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    response = api.post("/api/missions", {"name": "x" * 2000}, format="json")
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_list_endpoints_are_paginated(api):
    for i in range(3):
        api.post("/api/missions", {"name": f"m{i}"}, format="json")
    page = api.get("/api/missions", {"page_size": 2}).json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
