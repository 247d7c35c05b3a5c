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
    client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert generated.call_count == 1
    # A new deploy generates it again.
    settings.RELEVE_RELEASE = "def456"
    client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert generated.call_count == 2
