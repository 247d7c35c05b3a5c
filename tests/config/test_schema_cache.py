"""The API schema is generated once per deploy (issue 14): per process, and in the shared cache
under the deployed release; another release (a new deploy) generates it again."""

from __future__ import annotations

from unittest import mock

import pytest
from drf_spectacular.generators import SchemaGenerator

from config import schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(monkeypatch):
    monkeypatch.setattr(schema, "_SCHEMAS", {})
    monkeypatch.setattr(schema, "_RENDERED", {})
    with mock.patch.object(
        SchemaGenerator, "get_schema", autospec=True, side_effect=SchemaGenerator.get_schema
    ) as spy:
        yield spy


def test_the_schema_is_generated_once_per_release(client, settings, generated):
    settings.RELEVE_RELEASE = "abc123"
    first = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    second = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert "paths" in first.json()
    assert generated.call_count == 1
    # Another process of the same deploy finds it in the shared cache.
    schema._SCHEMAS.clear()
    schema._RENDERED.clear()
    client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert generated.call_count == 1
    # A new deploy generates it again.
    settings.RELEVE_RELEASE = "def456"
    client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert generated.call_count == 2


def test_the_schema_is_rendered_once_per_process_and_format(client, settings, generated):
    """Rendering the schema as YAML took ~80 ms a request (bench, national): it is kept, per
    format, and served as rendered — the same bytes, the same type, the same file name."""
    from drf_spectacular.renderers import OpenApiYamlRenderer

    settings.RELEVE_RELEASE = "abc123"
    with mock.patch.object(
        OpenApiYamlRenderer, "render", autospec=True, side_effect=OpenApiYamlRenderer.render
    ) as rendered:
        first = client.get("/api/v1/schema/")
        second = client.get("/api/v1/schema/")
    as_json = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")

    assert first.status_code == second.status_code == 200
    assert rendered.call_count == 1
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert first["Content-Type"].startswith("application/vnd.oai.openapi")
    assert second["Content-Disposition"] == first["Content-Disposition"]
    assert b"openapi:" in second.content
    assert "paths" in as_json.json()
