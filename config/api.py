"""API conventions shared by every viewset: pagination and the error shapes of API.md."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser as BaseFormParser
from rest_framework.parsers import JSONParser as BaseJSONParser
from rest_framework.parsers import MultiPartParser as BaseMultiPartParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.errors import DomainError
from config.nul import RejectNulParserMixin


# The API's parsers refuse a NUL anywhere in a body (config/nul.py).
class JSONParser(RejectNulParserMixin, BaseJSONParser):
    pass


class FormParser(RejectNulParserMixin, BaseFormParser):
    pass


class MultiPartParser(RejectNulParserMixin, BaseMultiPartParser):
    pass


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def exception_handler(exc, context):
    """400 keeps DRF's `{field: [messages]}`; 401/403/404/409/429 answer `{code, detail}`."""
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "detail": str(exc.message)}, status=exc.status_code)
    if isinstance(exc, Http404):
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
