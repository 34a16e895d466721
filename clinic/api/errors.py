"""THE error format of the API, and its schema."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

NON_FIELD = "non_field_errors"


def _messages(value):
    if isinstance(value, dict):
        return {str(k): _messages(v) for k, v in value.items()}
    if isinstance(value, list):
        flat = []
        for item in value:
            flat.extend(_messages(item) if isinstance(item, list) else [_messages(item)])
        return flat
    return str(value)


def django_validation_detail(exc: DjangoValidationError) -> dict:
    """A Django ValidationError (from a service or form) as field -> messages."""
    if hasattr(exc, "error_dict"):
        return {(NON_FIELD if k == "__all__" else k): list(v) for k, v in exc.message_dict.items()}
    return {NON_FIELD: list(exc.messages)}


def exception_handler(exc, context):
    """THE error format: ``{"detail": str, "code": str, "errors": {field: [messages]}}``.

    ``errors`` is present on 400 validation errors only. Django's ValidationError (services),
    Http404 and PermissionDenied are translated first, so a service's refusal is a 400 with the
    same field messages as on the page.
    """
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_validation_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {NON_FIELD: exc.detail}
        errors = _messages(errors)
        first = next(iter(errors.values()), ["Invalid input."])
        detail = first[0] if isinstance(first, list) and first else "Invalid input."
        response.data = {"detail": str(detail), "code": "invalid", "errors": errors}
    else:
        data = response.data if isinstance(response.data, dict) else {}
        detail = data.get("detail", exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": str(code)}
    return response


# Schema of the error format, for the OpenAPI documents of every endpoint.
ErrorSerializer = inline_serializer(
    "Error",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        ),
    },
)
ERROR = OpenApiResponse(ErrorSerializer, description="The error format of the whole API.")
ERRORS = {
    status.HTTP_400_BAD_REQUEST: ERROR,
    status.HTTP_401_UNAUTHORIZED: ERROR,
    status.HTTP_403_FORBIDDEN: ERROR,
    status.HTTP_404_NOT_FOUND: ERROR,
    status.HTTP_429_TOO_MANY_REQUESTS: ERROR,
}
