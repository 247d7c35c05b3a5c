"""What every HTML form of Relève shares (the lowest app owns it): DSFR classes on widgets,
errors tied to their field for screen readers, no megabytes echoed back, and a service's
refusal shown where it belongs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import BoundField
from django.forms.widgets import Input
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from accounts.errors import DomainError
from accounts.models import NotificationPreference
from accounts.notifications import MANDATORY_KINDS, kind_label, notification_kinds

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


class NotificationPreferencesForm(DsfrFormMixin, forms.Form):
    """The language of one's messages and the kinds one also wants by email."""

    language = forms.ChoiceField(
        label=_("Language"),
        help_text=_("Of the messages you receive, and of these pages on this browser."),
        widget=forms.RadioSelect,
    )
    emailed = forms.MultipleChoiceField(
        label=_("Also send me an email for"),
        help_text=_("Unticked: the message only reaches your inbox in Relève."),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        kinds = [kind for kind in notification_kinds() if kind not in MANDATORY_KINDS]
        muted = set(
            NotificationPreference.objects.filter(user=user, email=False).values_list(
                "kind", flat=True
            )
        )
        kwargs.setdefault(
            "initial",
            {"language": user.language, "emailed": [k for k in kinds if k not in muted]},
        )
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [
            (code, get_language_info(code)["name_local"].capitalize())
            for code, _name in settings.LANGUAGES
        ]
        self.fields["emailed"].choices = sorted(
            ((kind, kind_label(kind)) for kind in kinds), key=lambda choice: choice[1]
        )
        self.always_emailed = sorted(kind_label(kind) for kind in MANDATORY_KINDS)


class ApiTokenForm(DsfrFormMixin, forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        help_text=_("What it is for, to recognise it later (e.g. “Lab import script”)."),
        max_length=100,
    )
