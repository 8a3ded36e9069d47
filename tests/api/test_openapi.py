"""The OpenAPI description at /api/openapi.json covers every endpoint the API serves."""

from __future__ import annotations

import re

import pytest

from jobs.api import urls as api_urls
from jobs.api.endpoints import router

pytestmark = pytest.mark.django_db
NOT_OPERATIONS = {"openapi-json", "openapi-view", "api-root", None}
EXPECTED = {
    ("/api/jobs", "post"),
    ("/api/jobs", "get"),
    ("/api/jobs/{job_id}", "get"),
    ("/api/jobs/{job_id}/result", "get"),
    ("/api/jobs/{job_id}/cancel", "post"),
    ("/api/jobs/{job_id}/retry", "post"),
    ("/api/stats", "get"),
    ("/api/connections", "get"),
    ("/api/connections/{connection_id}/tables", "get"),
}


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_it_is_public_json(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["openapi"].startswith("3.")


def test_it_describes_exactly_the_expected_operations(schema):
    described = {(path, method) for path, item in schema["paths"].items() for method in item}

    assert described == EXPECTED


def test_every_url_and_method_the_api_serves_is_described(schema):
    served = set()
    for pattern in api_urls.urlpatterns:
        if pattern.name in NOT_OPERATIONS:
            continue
        path = "/api/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        assert path in schema["paths"], f"{path} is served but not described"
        served.add(path)
    for route, path_view in router.path_operations.items():
        path = "/api" + re.sub(r"{(?:\w+:)?(\w+)}", r"{\1}", route)
        for operation in path_view.operations:
            for method in operation.methods:
                assert method.lower() in schema["paths"][path], f"{method} {path} not described"
    assert served == {path for path, _ in EXPECTED}


def test_every_operation_documents_its_auth_and_errors(schema):
    assert set(schema["components"]["securitySchemes"]) == {"TokenAuth", "SessionAuth"}
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation["security"], f"{method} {path} has no security"
            assert "401" in operation["responses"], f"{method} {path} lacks its 401"
            error = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorOut"}


def test_the_submit_operation_documents_its_body_header_and_answers(schema):
    submit = schema["paths"]["/api/jobs"]["post"]

    assert {"202", "400", "413", "429"} <= set(submit["responses"])
    assert {p["name"] for p in submit["parameters"]} == {"Idempotency-Key"}
    body = submit["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/JobSubmitIn"}
    assert set(schema["components"]["schemas"]["JobSubmitIn"]["required"]) == {"kind", "params"}


def test_the_list_operation_documents_its_filters(schema):
    listing = schema["paths"]["/api/jobs"]["get"]

    names = {p["name"] for p in listing["parameters"]}
    assert names == {"status", "kind", "limit", "offset", "page"}


def test_human_docs_are_served(client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert b"/api/openapi.json" in response.content
    # From the app's own static files, never a CDN.
    assert b"/static/ninja/swagger-ui-bundle.js" in response.content
    assert b"cdn." not in response.content
