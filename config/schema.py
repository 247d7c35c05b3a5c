"""The OpenAPI schema documents the error answers every endpoint may give (API.md § Conventions),
so that clients, and schemathesis on CI, can rely on the statuses the API really sends."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpResponse
from django.utils import translation
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from rest_framework.response import Response

ERROR = {
    "type": "object",
    "description": "`{code, detail}`; business refusals may add fields (`fields`, `legs`).",
    "properties": {"code": {"type": "string"}, "detail": {"type": "string"}},
    "required": ["code", "detail"],
}
INVALID = {
    "type": "object",
    "description": "Invalid input: `{field: [message, ...]}`, in the caller's language.",
    "additionalProperties": {},
}
ANSWERS = {
    "400": ("Invalid input (body or query parameters).", INVALID),
    "401": ("Not authenticated.", ERROR),
    "403": ("Action not allowed on a visible object.", ERROR),
    "404": ("Unknown, or outside the caller's scope.", ERROR),
    "405": ("Method not allowed.", ERROR),
    "406": ("The Accept header asks for a type this endpoint does not serve.", ERROR),
    "415": ("Unsupported body media type.", ERROR),
    "429": ("Too many requests.", ERROR),
}
WRITE_ANSWERS = {"409": ("A business rule refuses it (see API.md for the codes).", ERROR)}


def document_errors(result, generator, request, public):
    """drf-spectacular post-processing hook: add the shared error answers where undocumented."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(
        {"Error": ERROR, "InvalidInput": INVALID}
    )
    refs = {
        id(ERROR): "#/components/schemas/Error",
        id(INVALID): "#/components/schemas/InvalidInput",
    }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            answers = dict(ANSWERS)
            if method != "get":
                answers.update(WRITE_ANSWERS)
            responses = operation.setdefault("responses", {})
            for status, (description, schema) in answers.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": refs[id(schema)]}}},
                    },
                )
    return result


# --- The schema, generated once per deploy ---------------------------------------------------
# Generating it walks every view and serializer (~300 ms): it changes only with the code. Each
# process keeps it per (API version, language); with `RELEVE_RELEASE` (the deployed commit, set
# by the deploy) the shared cache keeps it too, so one process of a deploy generates it for all.

_SCHEMAS: dict[tuple, dict] = {}


def _release() -> str:
    from django.conf import settings

    return getattr(settings, "RELEVE_RELEASE", "")


# And rendered (YAML or JSON, ~80 ms for YAML) once per process and media type.
_RENDERED: dict[tuple, tuple[bytes, str, str]] = {}


class CachedSpectacularAPIView(SpectacularAPIView):
    def _key(self, request) -> tuple:
        version = self.api_version or request.version or self._get_version_parameter(request)
        return (_release(), version, translation.get_language(), self.serve_public)

    @extend_schema(**SCHEMA_KWARGS)
    def get(self, request, *args, **kwargs):
        if not self.serve_public:  # filtered per user: not shared
            return super().get(request, *args, **kwargs)
        key = (*self._key(request), request.accepted_media_type)
        if key in _RENDERED:
            content, content_type, disposition = _RENDERED[key]
            response = HttpResponse(content, content_type=content_type)
            response["Content-Disposition"] = disposition
            return response
        response = super().get(request, *args, **kwargs)

        def keep(rendered):
            if rendered.status_code == 200:
                _RENDERED[key] = (
                    rendered.content,
                    rendered["Content-Type"],
                    rendered["Content-Disposition"],
                )

        response.add_post_render_callback(keep)
        return response

    def _get_schema_response(self, request):
        if not self.serve_public:  # filtered per user: not shared
            return super()._get_schema_response(request)
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = self._key(request)
        schema = _SCHEMAS.get(key)
        shared = "api-schema:" + ":".join(str(part) for part in key) if key[0] else None
        if schema is None and shared:
            schema = cache.get(shared)
        if schema is None:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            schema = generator.get_schema(request=request, public=self.serve_public)
            if shared:
                cache.set(shared, schema, None)
        _SCHEMAS[key] = schema
        filename = self._get_filename(request, version)
        return Response(
            data=schema, headers={"Content-Disposition": f'inline; filename="{filename}"'}
        )
