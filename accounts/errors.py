"""Business-rule refusals, shared by every app (the lowest app owns them)."""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError


class DomainError(Exception):
    """A business rule refused an action.

    `code` is stable and public (API.md § Conventions); `message` is translated for the user.
    The API answers 409 `{"code", "detail"}`; HTML views show the message next to the field.
    """

    status_code = 409

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@contextmanager
def translate_validation_errors():
    """Turn a model/service `ValidationError` into DRF's 400 `{field: [messages]}`.

    Services validate with `full_clean()`; the API must answer their errors like its own.
    """
    from rest_framework.exceptions import ValidationError as APIValidationError

    try:
        yield
    except DjangoValidationError as exc:
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        raise APIValidationError(detail) from exc
