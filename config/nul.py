"""NUL characters are refused in every text input, with a 400 naming the field.

PostgreSQL cannot store (or even compare against) a string holding U+0000: a NUL reaching a
query — a URL's lookup value, a filter, a related object's key, a JSON value — raises a
database error, that is a 500. Django's and DRF's `CharField`s already refuse NUL; what they
don't see is refused here, before any view runs:

- `RejectNulMiddleware`: the URL path, the query string and the form fields of a POST, for
  pages (a 400 page) and the API (`{"field": ["message"]}`);
- `RejectNulParserMixin` (on the API's parsers): every string of a JSON or form body.

The raw clinical messages posted to `RAW_BODY_PATHS` are not parsed here: ingestion stores
them as they came and handles what they hold.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser as BaseFormParser
from rest_framework.parsers import JSONParser as BaseJSONParser
from rest_framework.parsers import MultiPartParser as BaseMultiPartParser

NUL = "\x00"
RAW_BODY_PATHS = ("/api/v1/results/hl7/", "/api/v1/results/fhir/")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def message() -> str:
    # Django's own wording (and its translations).
    return _("Null characters are not allowed.")


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, Mapping):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False


def fields_with_nul(data: object) -> list[str]:
    """The names of the top-level fields of `data` whose value (at any depth) holds a NUL."""
    if isinstance(data, Mapping):
        lists = data.lists() if hasattr(data, "lists") else data.items()
        return [
            str(key).replace(NUL, "") or "non_field_errors"
            for key, value in lists
            if _holds_nul(key) or _holds_nul(value)
        ]
    return ["non_field_errors"] if _holds_nul(data) else []


def _request_fields_with_nul(request: HttpRequest) -> list[str]:
    fields = ["path"] if NUL in request.path_info else []
    fields += fields_with_nul(request.GET)
    if (
        request.method == "POST"
        and request.content_type in FORM_TYPES
        and request.path_info not in RAW_BODY_PATHS
    ):
        fields += fields_with_nul(request.POST)
    return list(dict.fromkeys(fields))


class RejectNulMiddleware:
    """400 for a NUL in the URL, the query string or a posted form (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        fields = _request_fields_with_nul(request)
        if not fields:
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse({field: [message()] for field in fields}, status=400)
        return render(request, "400.html", {"fields": fields, "reason": message()}, status=400)


class RejectNulParserMixin:
    """A DRF parser whose parsed body may hold no NUL (400 naming the top-level fields)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        data = getattr(parsed, "data", parsed)  # multipart: data and files
        fields = fields_with_nul(data)
        if fields:
            raise ValidationError({field: [message()] for field in fields})
        return parsed


# The API's parsers (settings' DEFAULT_PARSER_CLASSES). They live here, not in config.api:
# that module imports rest_framework.views, whose APIView reads DEFAULT_PARSER_CLASSES at import.


class JSONParser(RejectNulParserMixin, BaseJSONParser):
    pass


class FormParser(RejectNulParserMixin, BaseFormParser):
    pass


class MultiPartParser(RejectNulParserMixin, BaseMultiPartParser):
    pass
