"""Errors services raise, and how the API turns them into responses.

Services raise ``DomainError`` (or Django's ``ValidationError``) without knowing about HTTP;
the handler below gives them a 4xx with the message as written.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """A rule was broken; ``field`` names the input at fault, ``status`` the HTTP answer."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, field: str | None = None, status_code: int | None = None,
                 extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code

    def as_data(self) -> dict:
        data = {self.field: [self.message]} if self.field else {"detail": self.message}
        data.update(self.extra)
        return data


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        from rest_framework.response import Response

        return Response(exc.as_data(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        else:
            detail = {"detail": exc.messages[0] if len(exc.messages) == 1 else exc.messages}
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)
