"""Filters of the report tables: a cell shown for humans, a dict read by key."""

from __future__ import annotations

from django import template

from reports.tables import Column, display

register = template.Library()


@register.filter
def cell(row: dict, column: Column) -> str:
    return display(row.get(column.key), column.kind)


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def figure(value, kind: str) -> str:
    """A figure outside a table row, shown like the tables' cells (`{{ x|figure:"money" }}`)."""
    return display(value, kind)
