"""Template tags of the site's chrome (header, footer)."""

from __future__ import annotations

from django import template

from config.pages import compliance_label as _compliance_label

register = template.Library()


@register.simple_tag
def compliance_label() -> str:
    """The RGAA state the footer states ("not compliant" until an audit), as the declaration."""
    return _compliance_label()
