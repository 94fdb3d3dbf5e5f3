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


def _operations(api):
    paths = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    return [(method, path, op) for path, ops in paths.items() for method, op in ops.items()
            if method in ("get", "post", "put", "patch", "delete")]


def test_every_operation_is_described_and_documents_the_answers_any_call_can_get(api):
    operations = _operations(api)
    assert len(operations) > 70
    for method, path, op in operations:
        assert op.get("description"), f"{method.upper()} {path} has no description"
        assert "414" in op["responses"], f"{method.upper()} {path}"
        if {} not in op.get("security", [{}]):
            assert {"401", "404"} <= set(op["responses"]), f"{method.upper()} {path}"
        if "requestBody" in op:
            assert {"411", "415"} <= set(op["responses"]), f"{method.upper()} {path}"


def test_the_calibration_report_always_has_every_field_its_schema_requires(org, make_member, client_for):
    from labeling.learning.calibration import audit_needed
    from tests.factories import ProjectFactory

    project = ProjectFactory(organization=org, audit_slice_size=0)  # no label schema yet
    resp = client_for(make_member("viewer", org), org).get(f"/api/projects/{project.id}/calibration")
    assert resp.status_code == 200
    assert resp.json() == {
        "model": project.default_model, "head_version": None, "temperature": 1.0, "fitted_on": 0,
        "ece_before": None, "ece_after": None, "threshold": None, "threshold_source": "audit slice",
        "audit_slice": {"size": 0, "labelled": 0, "needed": audit_needed(project),
                        "remaining": audit_needed(project)}, "precision": {},
    }


def test_a_chunked_body_without_content_length_is_411_saying_what_to_send(org, make_member, client_for):
    from modelship.openapi import LENGTH_REQUIRED

    client = client_for(make_member("admin", org), org)
    resp = client.generic("POST", "/api/upload", b"", content_type="multipart/form-data; boundary=x",
                          CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked")
    assert resp.status_code == 411
    assert resp.json() == {"detail": LENGTH_REQUIRED}
