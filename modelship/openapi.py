"""The error responses every API view documents, written once."""

from drf_spectacular.utils import OpenApiResponse

ERRORS = {
    400: OpenApiResponse(description="Invalid input; the body names each bad field with its message."),
    401: OpenApiResponse(description="Not authenticated."),
    402: OpenApiResponse(description="Not enough credits: the body gives the cost, the balance and the credits missing."),
    403: OpenApiResponse(description="Your role does not allow this action."),
    404: OpenApiResponse(description="Not found, or in an organization you are not a member of."),
    409: OpenApiResponse(description="The object is not in a state that allows this; the body says why."),
    410: OpenApiResponse(description="Gone: it expired or left storage."),
    413: OpenApiResponse(description="Too large; the body gives the limit."),
    429: OpenApiResponse(description="Throttled: too many requests."),
}


def error_responses(*codes: int, **overrides: OpenApiResponse) -> dict:
    """``{code: response}`` for ``extend_schema(responses=...)``; ``overrides`` as ``r409=...``."""
    return {code: overrides.get(f"r{code}", ERRORS[code]) for code in codes}


# Answers any operation can give, whatever its view declares: added to every operation by the hook below.
NOT_AUTHENTICATED = OpenApiResponse(description="Not authenticated: no token, or one that is invalid or expired.")
UNKNOWN_ORGANIZATION = "Not found, or the X-Organization header names an organization you are not a member of."
URI_TOO_LONG = "Request-URI too long: the web server refuses request lines beyond its limit."
LENGTH_REQUIRED = "A request body needs a Content-Length header; chunked transfer encoding is not accepted."
UNSUPPORTED_MEDIA_TYPE = "The body's Content-Type is not one this operation reads."


def document_common_errors(result, generator, request, public):
    """drf-spectacular post-processing hook: 401 on every operation that needs a login, 404 on every one
    that reads the caller's organization, 411 and 415 where a body is sent, 414 everywhere."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            needs_login = {} not in (operation.get("security") or [{}])
            if needs_login:
                responses.setdefault("401", {"description": NOT_AUTHENTICATED.description})
                responses.setdefault("404", {"description": UNKNOWN_ORGANIZATION})
            if "requestBody" in operation:
                responses.setdefault("411", {"description": LENGTH_REQUIRED})
                responses.setdefault("415", {"description": UNSUPPORTED_MEDIA_TYPE})
            responses.setdefault("414", {"description": URI_TOO_LONG})
            operation["responses"] = dict(sorted(responses.items()))
    return result
