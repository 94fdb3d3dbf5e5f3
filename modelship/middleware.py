"""Request checks that come before any view."""

from __future__ import annotations

from django.http import JsonResponse

from modelship.openapi import LENGTH_REQUIRED


class BodyLengthRequired:
    """A body sent with chunked transfer encoding and no Content-Length reaches Django as an empty
    body (it reads exactly Content-Length bytes), so an upload would fail on "project: This field is
    required."; answer 411 Length Required instead, saying what to send."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            return JsonResponse({"detail": LENGTH_REQUIRED}, status=411)
        return self.get_response(request)
