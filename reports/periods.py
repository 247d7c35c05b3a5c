"""The periods reports cover, read the same way by pages and API (Europe/Paris days).

Coverage and continuity take `from` / `to` (inclusive dates; default the next 28 days from
today, or `period=last12` for the twelve months up to today); indemnities take `month=YYYY-MM`
(default last month). Bad input is a 400 naming the field (pages: the form's error).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_DAYS = 28
MAX_DAYS = 731  # two years: beyond it, an export is the tool


@dataclass(frozen=True)
class Period:
    start: Date
    end: Date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def next_weeks(today: Date) -> Period:
    return Period(today, today + timedelta(days=DEFAULT_DAYS - 1))


def last_twelve_months(today: Date) -> Period:
    start = today.replace(day=1)
    for _month in range(11):
        start = (start - timedelta(days=1)).replace(day=1)
    return Period(start, today)


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[("next4", _("Next 4 weeks")), ("last12", _("Last 12 months"))],
    )
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)

    def __init__(self, data=None, **kwargs):
        if data is not None:
            # The API and the exports spell them `from` / `to` (API.md).
            data = {
                "period": data.get("period", ""),
                "start": data.get("from", data.get("start", "")),
                "end": data.get("to", data.get("end", "")),
            }
        super().__init__(data, **kwargs)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise ValidationError({"end": _("The end of the period is before its start.")})
            if (end - start).days + 1 > MAX_DAYS:
                raise ValidationError({"end": _("A period covers two years at most.")})
        return data

    def period_value(self, today: Date | None = None) -> Period:
        """The period asked for (call after `is_valid()`); the default when none was."""
        today = today or timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        start, end = data.get("start"), data.get("end")
        if data.get("period") == "last12" and not (start or end):
            return last_twelve_months(today)
        if start and end:
            return Period(start, end)
        if start:
            return Period(start, start + timedelta(days=DEFAULT_DAYS - 1))
        if end:
            return Period(end - timedelta(days=DEFAULT_DAYS - 1), end)
        return next_weeks(today)


def api_errors(form: forms.Form) -> dict[str, list[str]]:
    """A form's errors keyed by the API's names (`from`, `to`)."""
    names = {"start": "from", "end": "to"}
    return {names.get(k, k): [str(m) for m in v] for k, v in form.errors.items()}


class MonthForm(forms.Form):
    month = forms.CharField(label=_("Month"), required=False, max_length=7)

    def clean_month(self) -> Date | None:
        value = self.cleaned_data["month"]
        if not value:
            return None
        try:
            year, month = (int(part) for part in value.split("-"))
            return Date(year, month, 1)
        except ValueError:
            raise ValidationError(_("Give the month as YYYY-MM (e.g. 2026-11).")) from None

    def month_value(self, today: Date | None = None) -> Date:
        """The month asked for; last month by default."""
        today = today or timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("month") or (today.replace(day=1) - timedelta(days=1)).replace(day=1)
