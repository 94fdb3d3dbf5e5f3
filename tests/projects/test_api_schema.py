"""Every projects and files endpoint is in the OpenAPI schema with its request, responses and errors."""

import pytest

pytestmark = pytest.mark.django_db

EXPECTED = {
    ("/api/projects/", "get"): {"200", "401", "403"},
    ("/api/projects/", "post"): {"201", "400", "401", "403"},
    ("/api/projects/templates", "get"): {"200", "401"},
    ("/api/projects/{project_id}", "get"): {"200", "401", "404"},
    ("/api/projects/{project_id}", "put"): {"200", "400", "401", "403", "404"},
    ("/api/projects/{project_id}", "delete"): {"204", "400", "401", "403", "404"},
    ("/api/projects/{project_id}/label-schema", "post"): {"201", "400", "401", "403", "404"},
    ("/api/projects/{project_id}/label-schema", "get"): {"200", "401", "404"},
    ("/api/projects/{project_id}/label-schema/versions", "get"): {"200", "401", "404"},
    ("/api/projects/{project_id}/label-schema/versions/{version}", "get"): {"200", "401", "404"},
    ("/api/projects/{project_id}/assign", "post"): {"200", "400", "401", "403", "404"},
    ("/api/projects/{project_id}/assignments", "get"): {"200", "401", "404"},
    ("/api/projects/{project_id}/assignments/{user_id}", "delete"): {"204", "401", "403", "404"},
    ("/api/projects/{project_id}/analytics", "get"): {"200", "401", "404"},
    ("/api/upload", "post"): {"201", "202", "400", "401", "403", "404", "413"},
    ("/api/uploads", "get"): {"200", "400", "401", "404"},
    ("/api/uploads/{import_id}", "get"): {"200", "401", "404"},
    ("/api/files/{user_id}", "get"): {"200", "400", "401", "404"},
    ("/api/items/{item_id}", "delete"): {"204", "401", "403", "404"},
    ("/api/items/{item_id}/download", "get"): {"200", "401", "404"},
}


def test_endpoints_are_documented(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for (path, method), codes in EXPECTED.items():
        operation = schema["paths"][path][method]
        # and what any call with a login can get (modelship.openapi.document_common_errors)
        common = {"401", "404", "414"} | ({"411", "415"} if "requestBody" in operation else set())
        assert set(operation["responses"]) == codes | common, (path, method, sorted(operation["responses"]))
    upload = schema["paths"]["/api/upload"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    fields = schema["components"]["schemas"]["UploadRequest"]["properties"]
    assert fields["files"]["items"] == {"type": "string", "format": "binary"}
    assert fields["text_mode"]["allOf"] == [{"$ref": "#/components/schemas/TextModeEnum"}]
    assert schema["components"]["schemas"]["TextModeEnum"]["enum"] == ["line", "whole"]
