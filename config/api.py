"""API conventions shared by every viewset: pagination, the error shapes of API.md, and the
PDF renderer of the binary downloads."""

from __future__ import annotations

import json

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.errors import DomainError

# The API's parsers refuse a NUL anywhere in a body (config/nul.py).


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PDFRenderer(BaseRenderer):
    """Lets `Accept: application/pdf` through content negotiation on the views that answer a
    PDF (API.md § Conventions: a download answers its own type as well as `*/*`).

    The views return the PDF bytes themselves; an error on such a view (404, 400…) is still
    answered as JSON, whatever was accepted."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data, ensure_ascii=False).encode()


def _validation_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    """Django's `ValidationError` in DRF's shape: `{field: [messages]}`, what names no field
    under `non_field_errors`."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: list(exc.messages)}
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
        for field, messages in exc.message_dict.items()
    }


def exception_handler(exc, context):
    """400 `{field: [messages]}` (DRF's and the services' Django `ValidationError` alike);
    401/403/404/409/429 answer `{code, detail}`.

    The one place errors are translated: views let services raise."""
    if isinstance(exc, DomainError):
        body = {"code": exc.code, "detail": str(exc.message)}
        if exc.field:
            body["field"] = exc.field
        body.update({key: value for key, value in exc.extra.items() if key not in body})
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_validation_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException) and not isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response.data = {"code": code, "detail": detail}
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.data.setdefault("code", "not_authenticated")
    return response
