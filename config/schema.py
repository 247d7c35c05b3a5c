"""The OpenAPI schema documents the error answers every endpoint may give (API.md § Conventions),
so that clients, and schemathesis on CI, can rely on the statuses the API really sends."""

from __future__ import annotations

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
