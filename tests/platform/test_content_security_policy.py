"""A Content-Security-Policy on every page: no script runs unless it is one of our static files (or
carries the request's nonce). tests/review/test_browser_csp.py checks the pages still work under it."""

import pytest

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: values for name, *values in directives}


def test_pages_and_the_api_docs_carry_a_policy_without_inline_scripts(client):
    for path in ("/login/", "/api/docs/"):
        response = client.get(path)
        assert response.status_code == 200, path
        policy = _policy(response)
        assert policy["default-src"] == ["'self'"], path
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    docs = client.get("/api/docs/")
    assert b"<script>" not in docs.content  # the Swagger UI set-up comes as its own script
    assert client.get("/api/docs/?script").status_code == 200
