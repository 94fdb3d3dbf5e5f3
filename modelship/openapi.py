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
