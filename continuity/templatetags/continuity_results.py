"""`{% result_lines summary %}`: a result's lines said for humans (`continuity.results`)."""

from __future__ import annotations

from django import template

from continuity.results import read

register = template.Library()


@register.inclusion_tag("continuity/_result_lines.html")
def result_lines(summary: str, limit: int = 0) -> dict:
    """Each line of `summary` in the active language, abnormal values highlighted; at most
    `limit` lines (0: all), the rest counted."""
    lines = read(summary)
    shown = lines[:limit] if limit else lines
    return {"lines": shown, "more": len(lines) - len(shown)}
