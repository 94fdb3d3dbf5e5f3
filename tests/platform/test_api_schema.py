import pytest

pytestmark = pytest.mark.django_db


def test_openapi_schema_and_swagger_ui(api):
    resp = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    for path in ["/api/auth/register", "/api/auth/login", "/api/auth/refresh", "/api/auth/me", "/api/auth/profile",
                 "/api/health", "/api/organizations", "/api/audit-events"]:
        assert path in paths, path
    assert set(paths["/api/auth/register"]["post"]["responses"]) >= {"201", "400"}
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
