"""What every HTML form of Relève shares (the lowest app owns it): DSFR classes on widgets,
errors tied to their field for screen readers, no megabytes echoed back, and a service's
refusal shown where it belongs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BoundField
from django.forms.widgets import Input

from accounts.errors import DomainError

ServiceError = ValidationError | DomainError

# A value this many times longer than its field allows was not typed: we name the error but
# don't echo megabytes back into the page.
ECHO_LIMIT_FACTOR = 2

_WIDGET_CLASSES: tuple[tuple[type[forms.Widget], str], ...] = (
    (forms.Select, "fr-select"),
    (forms.Textarea, "fr-input"),
    (Input, "fr-input"),
)


def style_widgets(fields: Iterable[forms.Field]) -> None:
    """Give widgets their DSFR class (the field template gives checkboxes and radios theirs)."""
    for field in fields:
        widget = field.widget
        if isinstance(
            widget,
            forms.CheckboxInput
            | forms.CheckboxSelectMultiple
            | forms.RadioSelect
            | forms.HiddenInput,
        ):
            continue
        css = next((c for kind, c in _WIDGET_CLASSES if isinstance(widget, kind)), None)
        if css:
            widget.attrs.setdefault("class", css)
        if isinstance(widget, forms.Textarea):
            widget.attrs.setdefault("rows", 4)


class EchoLimitedBoundField(BoundField):
    def value(self):
        value = super().value()
        limit = getattr(self.field, "max_length", None)
        if isinstance(value, str) and limit and len(value) > limit * ECHO_LIMIT_FACTOR:
            return value[:limit]
        return value


def add_service_error(form: forms.BaseForm, exc: ServiceError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    if isinstance(exc, DomainError):
        form.refusal_code = exc.code
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    elif hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class DsfrFormMixin:
    """Mix into a `forms.Form` or `forms.ModelForm` (first in the bases)."""

    bound_field_class = EchoLimitedBoundField
    refusal_code: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets()

    def style_widgets(self) -> None:
        """Call again after adding fields in `__init__`."""
        style_widgets(self.fields.values())

    def full_clean(self) -> None:
        super().full_clean()
        self.describe_errors()

    def describe_errors(self) -> None:
        """`aria-invalid` and `aria-describedby` on the widgets of fields in error."""
        for name in self.errors:
            if name not in self.fields:
                continue
            bound = self[name]
            described = [f"{bound.auto_id}_error"]
            if self.fields[name].help_text:
                described.insert(0, f"{bound.auto_id}_helptext")
            self.fields[name].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": " ".join(described)}
            )

    def add_service_error(self, exc: ServiceError) -> None:
        add_service_error(self, exc)
        self.describe_errors()
