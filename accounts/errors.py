"""Business-rule refusals, shared by every app (the lowest app owns them)."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused an action.

    `code` is stable and public (API.md § Conventions); `message` is translated for the user.
    The API answers 409 `{"code", "detail"}`; HTML views show the message next to the field.
    """

    status_code = 409

    def __init__(
        self, code: str, message: str, *, field: str | None = None, extra: dict | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        # More keys of the 409 body, e.g. `sheet_incomplete`'s `fields` (API.md § Conventions).
        self.extra = dict(extra or {})
